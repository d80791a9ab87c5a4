// Profiling harness for the cached query path (not part of `npm run bench`):
//   node -r ts-node/register/transpile-only app/bench/profile-cached.ts [out.cpuprofile]
// Starts the service on the environment's Postgres + Redis, asks 20 questions until cached, then
// drives cached queries with k6 for PROFILE_SECONDS (10) while the V8 sampling profiler records
// (start-up and warm-up excluded). Open the profile in Chrome DevTools or speedscope.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/config';
import { startService } from '../src/service';
import { acquireBackingServices, createThrowawayDatabase } from './bench-services';
import { runLoadScenario } from './load-scenarios';
import { authHeaders, ensureRunKey } from '../test/support/test-credential';

async function post(url: string, body: unknown) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...authHeaders() },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

async function main() {
  const services = await acquireBackingServices();
  const database = await createThrowawayDatabase(services);
  const service = await startService(
    loadConfig({
      ...database.serviceEnv,
      // PROFILE_CACHE=memory: the embedded default's cache, to see what the Redis round trip costs.
      ...(process.env.PROFILE_CACHE === 'memory' ? {} : { REDIS_URL: services.redisUrl }),
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'warn',
      SEED_DEMO_CORPUS: 'false',
    }),
  );
  try {
    await ensureRunKey(database.primaryUrl);
    await post(`${service.url}/v1/collections`, { id: 'p' });
    await post(`${service.url}/v1/collections/p/documents`, {
      source: 'a.md',
      content: '# Disk\n\nWhen the postgres disk fills up, check the WAL and replication slots.',
    });
    const questions = Array.from({ length: 20 }, (_, i) => `disk full postgres ${i}`);
    for (let round = 0; round < 100; round++) {
      let misses = 0;
      for (const query of questions) {
        const r = await post(`${service.url}/v1/query`, { collection: 'p', query, topK: 5 });
        if (r.json.cached !== true) misses++;
      }
      if (misses === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const file = path.join(tmpdir(), `profile-questions-${process.pid}.json`);
    writeFileSync(file, JSON.stringify({ collection: 'p', questions, runId: 'x' }));
    const session = new Session();
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
    const result = await runLoadScenario({
      name: 'cached max',
      target: 'cached',
      baseUrl: service.url,
      seconds: Number(process.env.PROFILE_SECONDS ?? 10),
      vus: 8,
      questionsFile: file,
    });
    const { profile } = await session.post('Profiler.stop');
    const out = process.argv[2] ?? path.join(tmpdir(), `cached-path-${process.pid}.cpuprofile`);
    writeFileSync(out, JSON.stringify(profile));
    console.log(JSON.stringify(result));
    console.log(`profile: ${out}`);
  } finally {
    await service.close();
    await database.drop();
    await services.release();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
