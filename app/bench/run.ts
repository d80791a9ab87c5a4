// `npm run bench`: the service's performance on the real stack, against issue 2's targets.
//
// Postgres primary + streaming replica and Redis (from the environment, or started here with
// scripts/test-services.sh and stopped afterwards), the service in-process with the in-process
// vector index and the local embedder. It loads ~10,000 chunks through the API (measuring
// ingestion), then k6 (loadtest/k6/bench.js) measures cached and uncached POST /v1/query and a bare
// Express endpoint, open model at fixed rates and closed model for maximum throughput.
//
//   npm run bench                         full run (~3 minutes)
//   BENCH_SCALE=small npm run bench       200 chunks, 1-2 s per scenario (keeps the script honest)
//   npm run bench -- retrieval-quality    hit@1/hit@3 of vector-only vs hybrid retrieval (seconds)
//   npm run bench -- cache                the cached path against bare Express, both built and run
//                                         as production runs them (app/bench/cache-ratio.ts, ~2 minutes)
//   npm run bench -- index                the embedded index at 100,000 chunks (app/bench/index-100k.ts)
//   npm run bench -- audit                audit log appends and chain verification (app/bench/audit-append.ts)
//   npm run bench -- rate-limit           what the rate limiter adds per request (app/bench/rate-limit.ts)
//   npm run bench -- security             authentication + rate limiting against neither, on the
//                                         cached query (app/bench/security.ts, ~2.5 minutes)
//   BENCH_CACHED_RATE (200), BENCH_UNCACHED_RATE (100), BENCH_VUS (8), BENCH_RESULTS_PATH
//   (bench-results/latest.json)
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/config';
import { startService, type RunningService } from '../src/service';
import { benchCorpus, ingestThroughApi } from './api-ingestion';
import { CpuAccounting } from './cpu-accounting';
import { main as benchAudit } from './audit-append';
import { acquireBackingServices, createThrowawayDatabase } from './bench-services';
import { formatTable, overheadRatios, verdicts } from './bench-report';
import { seededRandom, syntheticText } from './bench-stats';
import { startHelloServer } from './hello-server';
import { main as benchIndex } from './index-100k';
import { main as benchCacheRatio } from './cache-ratio';
import { runLoadScenario, type LoadScenario, type ScenarioResult } from './load-scenarios';
import { runRetrievalQualityBench } from './retrieval-quality/scenario';
import { runRateLimitBench } from './rate-limit';
import { runSecurityBench } from './security';
import { authHeaders, ensureRunKey } from '../test/support/test-credential';

const scales = {
  full: { chunks: 10_000, rateSeconds: 30, maxSeconds: 10 },
  small: { chunks: 200, rateSeconds: 2, maxSeconds: 1 },
} as const;

function setting(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number`);
  return value;
}

const collection = 'bench';
const cachedQuestionCount = 50;

async function post(
  url: string,
  body: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...authHeaders() },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

type QueryCacheCounts = { hit: number; miss: number; error: number };

/**
 * The service's own count of query-cache lookups by result. A cached question answered uncached
 * is either a miss (the bench's cache is wrong) or an error (a Redis read slower than the command
 * timeout on a saturated machine, which the service rightly degrades): only the service can tell.
 */
async function queryCacheCounts(service: RunningService): Promise<QueryCacheCounts> {
  const counts = { hit: 0, miss: 0, error: 0 };
  for (const m of (await service.metrics.registry.getMetricsAsJSON()) as {
    name: string;
    values: { labels: Record<string, string | number>; value: number }[];
  }[]) {
    if (m.name !== 'rag_cache_requests_total') continue;
    for (const v of m.values) {
      const result = v.labels.result as keyof QueryCacheCounts;
      if (v.labels.cache === 'query' && result in counts) counts[result] += v.value;
    }
  }
  return counts;
}

/** Fills the query cache with the questions the cached scenario repeats, and warms the JIT. */
async function warmUp(service: RunningService, helloUrl: string, questions: string[]) {
  // The cache key carries the collection's index version read from a replica, which may trail the
  // last indexing commit by a moment: an answer stored under the older version never hits again.
  // So ask every question until each one is answered from the cache.
  let pending = questions;
  for (let round = 0; round < 50 && pending.length > 0; round++) {
    const missed: string[] = [];
    for (const query of pending) {
      const res = await post(`${service.url}/v1/query`, { collection, query, topK: 5 });
      if (res.status !== 200) throw new Error(`warm-up query: ${res.status}`);
      if (res.json.cached !== true) missed.push(query);
    }
    pending = missed;
  }
  if (pending.length > 0) {
    throw new Error(`${pending.length} questions never hit the query cache; check REDIS_URL`);
  }
  for (let i = 0; i < 300; i++) {
    await post(`${service.url}/v1/query`, { collection, query: `warm up ${i} replica lag` });
    await (await fetch(`${helloUrl}/hello`)).text();
  }
}

async function main() {
  const scale = process.env.BENCH_SCALE === 'small' ? scales.small : scales.full;
  const cachedRate = setting('BENCH_CACHED_RATE', 200);
  const uncachedRate = setting('BENCH_UNCACHED_RATE', 100);
  const vus = setting('BENCH_VUS', 8);
  const resultsPath = path.resolve(
    process.env.BENCH_RESULTS_PATH ?? path.join(__dirname, '../../bench-results/latest.json'),
  );
  const loadBefore = loadavg();
  console.log(
    `bench: ${process.env.BENCH_SCALE ?? 'full'} scale, ${cpus().length} CPUs, ` +
      `load average ${loadBefore.map((l) => l.toFixed(2)).join(' ')}`,
  );

  const services = await acquireBackingServices();
  const cleanup: (() => Promise<unknown>)[] = [() => services.release()];
  const workDir = mkdtempSync(path.join(tmpdir(), 'rag-bench-'));
  cleanup.push(async () => rmSync(workDir, { recursive: true, force: true }));
  try {
    const database = await createThrowawayDatabase(services);
    cleanup.push(() => database.drop());
    const config = loadConfig({
      ...database.serviceEnv,
      REDIS_URL: services.redisUrl,
      HOST: '127.0.0.1',
      PORT: '0',
      // Request lines are logged at 'http', below the default 'info'; 'warn' also mutes the
      // per-document ingestion lines, which would flood the console at 10,000 chunks.
      LOG_LEVEL: 'warn',
      SEED_DEMO_CORPUS: 'false',
    });
    const service = await startService(config);
    await ensureRunKey(database.primaryUrl);
    cleanup.push(() => service.close());
    const hello = await startHelloServer();
    cleanup.push(() => hello.close());
    console.log(
      `backing services: ${services.started ? 'started for this run' : 'from the environment'}`,
    );

    const created = await post(`${service.url}/v1/collections`, { id: collection });
    if (created.status !== 201) throw new Error(`create collection: ${created.status}`);
    const corpus = benchCorpus(scale.chunks, {
      size: config.CHUNK_SIZE,
      overlap: config.CHUNK_OVERLAP,
    });
    console.log(`ingesting ${corpus.documents.length} documents (${corpus.chunks} chunks)…`);
    const ingestion = await ingestThroughApi({
      baseUrl: service.url,
      collection,
      documents: corpus.documents,
      primaryUrl: database.primaryUrl,
      concurrency: 8,
      timeoutMs: 240_000,
    });
    console.log(
      `ingestion: ${ingestion.chunks} chunks in ${ingestion.seconds} s → ` +
        `${ingestion.chunksPerSecond} chunks/s (all accepted after ${ingestion.acceptSeconds} s)`,
    );

    const random = seededRandom(5);
    const questions = Array.from(
      { length: cachedQuestionCount },
      (_, i) => `${syntheticText(random, 50)} ${i}`,
    );
    // Cache keys carry the collection's index version as the replica reports it: a replica still
    // replaying the last indexing commit would file the warm-up under an older version, and the
    // cached scenario would miss once it catches up.
    await database.replicaCaughtUp();
    await warmUp(service, hello.url, questions);

    const workload = (name: string) => {
      const file = path.join(workDir, `${name.replace(/\W+/g, '-')}.json`);
      // Each scenario has its own salt, so no run's "unique" questions hit another's cache.
      writeFileSync(file, JSON.stringify({ collection, questions, runId: `${Date.now()}${name}` }));
      return file;
    };
    const plan: LoadScenario[] = [
      { name: 'hello', target: 'hello', rate: cachedRate, seconds: scale.rateSeconds },
      { name: 'cached query', target: 'cached', rate: cachedRate, seconds: scale.rateSeconds },
      {
        name: 'uncached query',
        target: 'uncached',
        rate: uncachedRate,
        seconds: scale.rateSeconds,
      },
      { name: 'hello max', target: 'hello', vus, seconds: scale.maxSeconds },
      { name: 'cached max', target: 'cached', vus, seconds: scale.maxSeconds },
      { name: 'uncached max', target: 'uncached', vus, seconds: scale.maxSeconds },
    ].map((s) => ({
      ...(s as LoadScenario),
      baseUrl: s.target === 'hello' ? hello.url : service.url,
      questionsFile: s.target === 'hello' ? undefined : workload(s.name),
    }));
    const scenarios: (ScenarioResult & { queryCache: QueryCacheCounts })[] = [];
    const cpu = await CpuAccounting.open(services.redisUrl);
    cleanup.push(() => cpu.close());
    for (const scenario of plan) {
      process.stdout.write(`k6: ${scenario.name}…`);
      const before = await queryCacheCounts(service);
      const cpuBefore = await cpu.sample();
      const result = await runLoadScenario(scenario);
      const cpuAfter = await cpu.sample();
      const after = await queryCacheCounts(service);
      scenarios.push({
        ...result,
        cpu: CpuAccounting.perRequest(cpuBefore, cpuAfter, result.requests),
        queryCache: {
          hit: after.hit - before.hit,
          miss: after.miss - before.miss,
          error: after.error - before.error,
        },
      });
      process.stdout.write(' done\n');
    }

    const results = {
      finishedAt: new Date().toISOString(),
      run: 'all',
      scale: process.env.BENCH_SCALE ?? 'full',
      machine: {
        cpus: cpus().length,
        node: process.version,
        loadAverageBefore: loadBefore,
        loadAverageAfter: loadavg(),
      },
      ingestion,
      scenarios,
      overhead: overheadRatios(scenarios),
      targets: verdicts(ingestion, scenarios, { cachedRate }),
    };
    console.log(`\n${formatTable(scenarios)}\n`);
    for (const [name, ratio] of Object.entries(results.overhead)) console.log(`${name}: ${ratio}`);
    for (const t of results.targets) {
      console.log(`${t.met ? 'met   ' : 'MISSED'} ${t.name}: ${t.measured} (target ${t.target})`);
    }
    mkdirSync(path.dirname(resultsPath), { recursive: true });
    writeFileSync(resultsPath, JSON.stringify(results, null, 2) + '\n');
    console.log(`\nwrote ${path.relative(process.cwd(), resultsPath)}`);
  } finally {
    for (const close of cleanup.reverse()) {
      await close().catch((err: unknown) => console.error('cleanup failed:', err));
    }
  }
}

const named: Record<string, () => Promise<void>> = {
  'retrieval-quality': runRetrievalQualityBench,
  index: benchIndex,
  cache: benchCacheRatio,
  audit: benchAudit,
  'rate-limit': runRateLimitBench,
  security: runSecurityBench,
};
const scenarioName = process.argv[2];
if (scenarioName !== undefined && !(scenarioName in named)) {
  console.error(
    `unknown bench scenario '${scenarioName}'; known: ${Object.keys(named).join(', ')}`,
  );
  process.exit(2);
}
// No name runs main(), the whole bench.
(scenarioName && scenarioName in named ? named[scenarioName]() : main()).catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
