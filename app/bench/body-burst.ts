// Memory cost of a burst of large JSON bodies (issue 10: 1.6 MB bodies took the process from 165 MB
// to 897 MB RSS). Starts the service as its own process on the environment's Postgres and Redis
// (as scripts/test-services.sh prints them), sends rounds of concurrent 1.6 MB bodies to each
// operation that takes a body, and reports the process's resident set before, at its peak and
// after. Numbers for a report, not a test:
//
//   node -r ts-node/register/transpile-only app/bench/body-burst.ts
//   BURST_CONCURRENCY (64), BURST_ROUNDS (4), BURST_BODY_BYTES (1600000),
//   BURST_TARGETS (query,collections,documents)
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { authHeaders, ensureRunKey } from '../test/support/test-credential';
import { freePort } from '../../test-support/free-port';

const repoRoot = path.resolve(__dirname, '../..');
const setting = (name: string, fallback: number) => Number(process.env[name] ?? fallback);

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kib / 1024;
}

async function main(): Promise<void> {
  for (const name of ['DATABASE_URL', 'DATABASE_REPLICA_URLS', 'REDIS_URL']) {
    if (!process.env[name]) throw new Error(`${name} is not set (source scripts/test-services.sh)`);
  }
  const concurrency = setting('BURST_CONCURRENCY', 64);
  const rounds = setting('BURST_ROUNDS', 4);
  const bodyBytes = setting('BURST_BODY_BYTES', 1_600_000);
  const port = await freePort();
  const child = spawn(
    process.execPath,
    ['-r', 'ts-node/register/transpile-only', 'app/src/main.ts'],
    {
      cwd: repoRoot,
      env: {
        ...process.env,
        HOST: '127.0.0.1',
        PORT: String(port),
        LOG_LEVEL: 'error',
        SEED_DEMO_CORPUS: 'false',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  const url = `http://127.0.0.1:${port}`;
  try {
    for (;;) {
      const ready = await fetch(`${url}/readyz`).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ready) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    await ensureRunKey(process.env.DATABASE_URL);
    const collection = `burst-${process.pid}`;
    await fetch(`${url}/v1/collections`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...authHeaders() },
      body: JSON.stringify({ id: collection }),
    });
    const pid = child.pid!;
    const baseline = rssMiB(pid);
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, rssMiB(pid))), 10);
    const body = JSON.stringify({ collection, query: 'x'.repeat(bodyBytes - 40) });
    const allTargets: Record<string, string> = {
      query: '/v1/query',
      collections: '/v1/collections',
      documents: `/v1/collections/${collection}/documents`,
    };
    const targets = (process.env.BURST_TARGETS ?? 'query,collections,documents')
      .split(',')
      .map((t) => allTargets[t.trim()]);
    const statuses = new Map<number, number>();
    const started = performance.now();
    for (let round = 0; round < rounds; round++) {
      for (const target of targets) {
        await Promise.all(
          Array.from({ length: concurrency }, async () => {
            const res = await fetch(url + target, {
              method: 'POST',
              headers: { 'content-type': 'application/json', ...authHeaders() },
              body,
            }).catch(() => undefined);
            await res?.text();
            const status = res?.status ?? 0;
            statuses.set(status, (statuses.get(status) ?? 0) + 1);
          }),
        );
      }
    }
    const seconds = (performance.now() - started) / 1000;
    clearInterval(sampler);
    const after = rssMiB(pid);
    await fetch(`${url}/v1/collections/${collection}`, {
      method: 'DELETE',
      headers: authHeaders(),
    });
    console.log(
      JSON.stringify(
        {
          requests: rounds * targets.length * concurrency,
          concurrency,
          bodyBytes,
          seconds: Number(seconds.toFixed(1)),
          statuses: Object.fromEntries(statuses),
          rssMiB: {
            baseline: Math.round(baseline),
            peak: Math.round(peak),
            after: Math.round(after),
          },
        },
        null,
        2,
      ),
    );
  } finally {
    child.kill('SIGTERM');
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
