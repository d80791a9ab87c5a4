// `npm run bench -- index`: the embedded (in-process) vector index at 100,000 chunks of realistic
// text (app/bench/realistic-corpus.ts: the repository's markdown grown by variations), embedded with
// the service's default local embedder.
//
//   1. The index alone: recall@10 against exact search over BENCH_INDEX_QUESTIONS (500) paraphrased
//      questions, and search latency, for the int8 kernel and for the float32 scan it replaced.
//   2. The service: the chunks are written to a throwaway Postgres as indexed documents, then a
//      fresh service starts and rebuilds its index from them; the bench times the rebuild, polls
//      /healthz throughout (liveness must keep answering) and /readyz (down until the index is
//      whole), and measures the memory the rebuilt index holds per chunk.
//   3. k6: uncached POST /v1/query at BENCH_INDEX_RATE (50/s) for BENCH_INDEX_SECONDS (30).
//
// BENCH_INDEX_CHUNKS (100000) scales it down for a quick look. Results go to
// bench-results/index.json (BENCH_RESULTS_PATH). BENCH_CPU_PROFILE=<file.cpuprofile> also writes a
// CPU profile of this process (the service) during step 3, for Chrome DevTools or speedscope.
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { Session } from 'node:inspector/promises';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Client } from 'pg';
import { loadConfig } from '../src/config';
import { LocalEmbedder } from '../src/rag/embedding/local-embedder';
import type { Metrics } from '../src/observability/metrics';
import { startService } from '../src/service';
import { InProcessVectorStore } from '../src/stores/vector/in-process-vector-store';
import { acquireBackingServices, createThrowawayDatabase } from './bench-services';
import { backendCpu, backendsOf, cpuMsBetween } from './postgres-cpu';
import { summarize, type LatencySummary } from './bench-stats';
import { runLoadScenario } from './load-scenarios';
import { realisticChunks, realisticQuestions } from './realistic-corpus';
import { authHeaders, ensureRunKey } from '../test/support/test-credential';

function setting(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number`);
  return value;
}

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Heap plus array buffers (typed arrays, WebAssembly memory) after a full collection. */
function retainedBytes(): number {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

const collection = 'index-bench';
const topK = 10;

/**
 * Mean share of the approximate top-k that belongs to the exact top-k. A hit scoring the same as
 * the exact k-th (to 1e-6) counts: near-duplicate chunks tie, and either is a correct answer.
 */
async function measureRecall(
  approximate: InProcessVectorStore,
  exact: InProcessVectorStore,
  queries: Float32Array[],
): Promise<{ recallAt10: number; approximate: LatencySummary; exact: LatencySummary }> {
  let recall = 0;
  const approxMs: number[] = [];
  const exactMs: number[] = [];
  for (const vector of queries) {
    let t = performance.now();
    const truth = await exact.search({ collectionId: collection, vector, topK });
    exactMs.push(performance.now() - t);
    t = performance.now();
    const hits = await approximate.search({ collectionId: collection, vector, topK });
    approxMs.push(performance.now() - t);
    const kth = truth[truth.length - 1].score;
    recall += hits.filter((h) => h.score >= kth - 1e-6).length / truth.length;
  }
  return {
    recallAt10: Math.round((recall / queries.length) * 10_000) / 10_000,
    approximate: summarize(approxMs),
    exact: summarize(exactMs),
  };
}

/** Writes the chunks as indexed documents of 50 chunks each, as the ingestion worker leaves them. */
export async function writeIndexedChunks(
  primaryUrl: string,
  collectionKey: string,
  texts: string[],
) {
  const db = new Client(primaryUrl);
  await db.connect();
  try {
    const perDocument = 50;
    for (let start = 0; start < texts.length; start += perDocument * 40) {
      const docIds: string[] = [];
      const chunkIds: string[] = [];
      const chunkDocs: string[] = [];
      const ordinals: number[] = [];
      const chunkTexts: string[] = [];
      const sources: string[] = [];
      const contents: string[] = [];
      for (let d = start; d < Math.min(texts.length, start + perDocument * 40); d += perDocument) {
        const docId = randomUUID();
        const own = texts.slice(d, d + perDocument);
        docIds.push(docId);
        sources.push(`bench/doc-${d / perDocument}.md`);
        contents.push(own.join('\n\n'));
        own.forEach((text, i) => {
          chunkIds.push(randomUUID());
          chunkDocs.push(docId);
          ordinals.push(i);
          chunkTexts.push(text);
        });
      }
      await db.query(
        `INSERT INTO documents (id, collection_id, source, title, media_type, content, content_hash,
                                size_bytes, status, chunk_count, indexed_at)
         SELECT id, $1, source, source, 'text/markdown', content, md5(content),
                octet_length(content), 'indexed', 50, now()
         FROM unnest($2::uuid[], $3::text[], $4::text[]) AS t(id, source, content)`,
        [collectionKey, docIds, sources, contents],
      );
      await db.query(
        `INSERT INTO chunks (id, document_id, collection_id, ordinal, text, start_offset, end_offset)
         SELECT id, doc, $1, ordinal, text, 0, length(text)
         FROM unnest($2::uuid[], $3::uuid[], $4::int[], $5::text[]) AS t(id, doc, ordinal, text)`,
        [collectionKey, chunkIds, chunkDocs, ordinals, chunkTexts],
      );
    }
    await db.query('UPDATE collections SET index_version = index_version + 1 WHERE id = $1', [
      collectionKey,
    ]);
  } finally {
    await db.end();
  }
}

/** Polls /healthz every 50 ms until `done` resolves: how long liveness took to answer. */
async function pollLiveness(url: string, done: Promise<unknown>): Promise<LatencySummary> {
  let finished = false;
  void done.finally(() => (finished = true));
  const samples: number[] = [];
  while (!finished) {
    const t = performance.now();
    const res = await fetch(`${url}/healthz`);
    await res.text();
    if (res.status !== 200) throw new Error(`/healthz answered ${res.status} during the rebuild`);
    samples.push(performance.now() - t);
    await new Promise((r) => setTimeout(r, 50));
  }
  return summarize(samples);
}

interface StageSummary {
  readonly count: number;
  readonly meanMs: number;
  /** The histogram bucket the 95th percentile falls in (its upper bound). */
  readonly p95AtMostMs: number | null;
}

/** Per pipeline stage, from the service's own rag_stage_duration_seconds histogram. */
async function stageSummaries(metrics: Metrics): Promise<Record<string, StageSummary>> {
  const { values } = await metrics.stageDuration.get();
  const stages = new Map<string, { sum: number; count: number; buckets: [number, number][] }>();
  for (const v of values) {
    const labels: Record<string, string | number | undefined> = v.labels;
    const stage = String(labels.stage);
    const entry = stages.get(stage) ?? { sum: 0, count: 0, buckets: [] };
    if (v.metricName?.endsWith('_sum')) entry.sum = v.value;
    else if (v.metricName?.endsWith('_count')) entry.count = v.value;
    else if (labels.le !== undefined && labels.le !== '+Inf') {
      entry.buckets.push([Number(labels.le), v.value]);
    }
    stages.set(stage, entry);
  }
  return Object.fromEntries(
    [...stages].map(([stage, { sum, count, buckets }]) => {
      const p95 = buckets.sort((a, b) => a[0] - b[0]).find(([, n]) => n >= count * 0.95);
      return [
        stage,
        {
          count,
          meanMs: count ? Math.round((sum / count) * 1e5) / 100 : 0,
          p95AtMostMs: p95 ? p95[0] * 1000 : null,
        },
      ];
    }),
  );
}

const loopResolutionMs = 10;
const beyondResolution = (ns: number) =>
  Math.round(Math.max(0, ns / 1e6 - loopResolutionMs) * 100) / 100;

async function readyzWhileRebuilding(url: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`${url}/readyz`);
  return { status: res.status, body: await res.text() };
}

export async function main(): Promise<void> {
  const chunks = setting('BENCH_INDEX_CHUNKS', 100_000);
  const rate = setting('BENCH_INDEX_RATE', 50);
  const seconds = setting('BENCH_INDEX_SECONDS', 30);
  const questionCount = setting('BENCH_INDEX_QUESTIONS', 500);
  const resultsPath = path.resolve(
    process.env.BENCH_RESULTS_PATH ?? path.join(__dirname, '../../bench-results/index.json'),
  );
  const loadBefore = loadavg();
  console.log(
    `bench index: ${chunks} chunks, ${cpus().length} CPUs, load average ` +
      loadBefore.map((l) => l.toFixed(2)).join(' '),
  );

  // 1. The index alone.
  const embedder = new LocalEmbedder(384);
  const texts = realisticChunks(chunks);
  const questions = realisticQuestions(questionCount);
  let t = performance.now();
  const vectors = texts.map((text) => embedder.embedOne(text));
  const embedSeconds = (performance.now() - t) / 1000;
  const before = retainedBytes();
  const index = new InProcessVectorStore(384);
  t = performance.now();
  for (let i = 0; i < vectors.length; i += 512) {
    await index.upsert(
      vectors.slice(i, i + 512).map((vector, j) => ({
        id: `chunk-${i + j}`,
        vector,
        payload: { collectionId: collection, documentId: `doc-${Math.floor((i + j) / 50)}` },
      })),
    );
  }
  const loadSeconds = (performance.now() - t) / 1000;
  const indexBytes = retainedBytes() - before;
  const exact = new InProcessVectorStore(384, { kernel: false });
  for (let i = 0; i < vectors.length; i += 512) {
    await exact.upsert(
      vectors.slice(i, i + 512).map((vector, j) => ({
        id: `chunk-${i + j}`,
        vector,
        payload: { collectionId: collection, documentId: `doc-${Math.floor((i + j) / 50)}` },
      })),
    );
  }
  const queryVectors = questions.map((q) => embedder.embedOne(q));
  await measureRecall(index, exact, queryVectors.slice(0, 50)); // warm-up (JIT, wasm tier-up)
  const recall = await measureRecall(index, exact, queryVectors);
  const component = {
    chunks,
    distinctTexts: new Set(texts).size,
    questions: questionCount,
    embedSecondsLocalEmbedder: Math.round(embedSeconds * 10) / 10,
    loadSeconds: Math.round(loadSeconds * 100) / 100,
    bytesPerChunkIndexOnly: Math.round(indexBytes / chunks),
    ...recall,
  };
  await exact.close();
  await index.close();
  console.log(`index alone: ${JSON.stringify(component)}`);

  // 2. The service rebuilding it from Postgres.
  const services = await acquireBackingServices();
  const cleanup: (() => Promise<unknown>)[] = [() => services.release()];
  const workDir = mkdtempSync(path.join(tmpdir(), 'rag-bench-index-'));
  cleanup.push(async () => rmSync(workDir, { recursive: true, force: true }));
  try {
    const database = await createThrowawayDatabase(services);
    cleanup.push(() => database.drop());
    const config = loadConfig({
      ...database.serviceEnv,
      REDIS_URL: services.redisUrl,
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'warn',
      SEED_DEMO_CORPUS: 'false',
    });
    const first = await startService(config);
    await ensureRunKey(database.primaryUrl);
    const created = await fetch(`${first.url}/v1/collections`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...authHeaders() },
      body: JSON.stringify({ id: collection }),
    });
    const { key } = (await created.json()) as { key?: string };
    await first.close();
    const collectionKey = key ?? (await keyOf(database.primaryUrl));
    t = performance.now();
    await writeIndexedChunks(database.primaryUrl, collectionKey, texts);
    console.log(
      `wrote ${chunks} chunks to postgres in ${((performance.now() - t) / 1000).toFixed(1)} s`,
    );
    await database.replicaCaughtUp(300_000);

    const memoryBefore = retainedBytes();
    const rssBefore = process.memoryUsage().rss;
    const started = performance.now();
    const service = await startService(config);
    cleanup.push(() => service.close());
    const listeningSeconds = (performance.now() - started) / 1000;
    const readyz = await readyzWhileRebuilding(service.url);
    const ready = (async () => {
      for (;;) {
        const res = await fetch(`${service.url}/readyz`);
        await res.text();
        if (res.status === 200) return;
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const liveness = await pollLiveness(service.url, ready);
    await ready;
    const rebuildSeconds = (performance.now() - started) / 1000;
    const memoryAfter = retainedBytes();
    const rebuild = {
      chunks,
      listeningAfterSeconds: Math.round(listeningSeconds * 100) / 100,
      readyAfterSeconds: Math.round(rebuildSeconds * 10) / 10,
      readyzDuringRebuild: readyz.status,
      healthzDuringRebuild: liveness,
      bytesPerChunkInService: Math.round((memoryAfter - memoryBefore) / chunks),
      rssGrowthMb: Math.round((process.memoryUsage().rss - rssBefore) / 1e6),
    };
    console.log(`service rebuild: ${JSON.stringify(rebuild)}`);

    // 3. Uncached queries through the API at the target rate.
    const file = path.join(workDir, 'questions.json');
    writeFileSync(file, JSON.stringify({ collection, questions, runId: `${Date.now()}` }));
    // Where a request's time goes: the service's stage histogram (reset first: the rebuild and
    // readiness polls are not queries), its CPU and its event loop's delay during the run.
    service.metrics.stageDuration.reset();
    const loopDelay = monitorEventLoopDelay({ resolution: loopResolutionMs });
    loopDelay.enable();
    const backends = {
      primary: await backendsOf(database.primaryUrl),
      replica: await backendsOf(database.replicaUrl),
    };
    const postgresCpu = () =>
      Object.entries(backends).map(([role, b]) => ({
        role,
        backends: b,
        used: b ? backendCpu(b) : new Map<number, number>(),
      }));
    const postgresBefore = postgresCpu();
    const profiler = process.env.BENCH_CPU_PROFILE ? new Session() : undefined;
    if (profiler) {
      profiler.connect();
      await profiler.post('Profiler.enable');
      await profiler.post('Profiler.start');
    }
    const cpuBefore = process.cpuUsage();
    const loadStarted = performance.now();
    const load = await runLoadScenario({
      name: `uncached query, ${chunks} chunks`,
      target: 'uncached',
      baseUrl: service.url,
      rate,
      seconds,
      questionsFile: file,
    });
    const loadMs = performance.now() - loadStarted;
    const cpu = process.cpuUsage(cpuBefore);
    const postgresAfter = postgresCpu();
    loopDelay.disable();
    if (profiler && process.env.BENCH_CPU_PROFILE) {
      const { profile } = await profiler.post('Profiler.stop');
      writeFileSync(process.env.BENCH_CPU_PROFILE, JSON.stringify(profile));
      profiler.disconnect();
      console.log(
        `wrote the service's CPU profile during the load to ${process.env.BENCH_CPU_PROFILE}`,
      );
    }
    const perRequest = (ms: number) => Math.round((ms / Math.max(load.requests, 1)) * 100) / 100;
    const serviceCpuMs = (cpu.user + cpu.system) / 1000;
    const serviceDuringLoad = {
      stages: await stageSummaries(service.metrics),
      cpuShareOfOneCore: Math.round((serviceCpuMs / loadMs) * 100) / 100,
      // CPU per request, which a busy machine inflates far less than latency: the service (this
      // process; k6 runs apart) and the backends of each Postgres server (null without /proc).
      cpuMsPerRequest: {
        service: perRequest(serviceCpuMs),
        ...Object.fromEntries(
          postgresBefore.map(({ role, backends: b, used }, i) => [
            `postgres${role[0].toUpperCase()}${role.slice(1)}`,
            b ? perRequest(cpuMsBetween(used, postgresAfter[i].used)) : null,
          ]),
        ),
      },
      // Beyond the sampling timer's own resolution.
      eventLoopDelayMs: {
        p50: beyondResolution(loopDelay.percentile(50)),
        p99: beyondResolution(loopDelay.percentile(99)),
        max: beyondResolution(loopDelay.max),
      },
    };
    console.log(`service during load: ${JSON.stringify(serviceDuringLoad)}`);
    const results = {
      finishedAt: new Date().toISOString(),
      run: 'index',
      machine: {
        cpus: cpus().length,
        node: process.version,
        loadAverageBefore: loadBefore,
        loadAverageAfter: loadavg(),
      },
      component,
      rebuild,
      load,
      service: serviceDuringLoad,
      targets: [
        {
          name: 'recall@10 against exact search',
          target: '≥ 0.95',
          measured: String(component.recallAt10),
          met: component.recallAt10 >= 0.95,
        },
        {
          name: `uncached POST /v1/query at ${rate}/s, ${chunks} chunks`,
          target: 'p95 ≤ 50 ms, no errors or dropped arrivals',
          measured: `p95 ${load.p95Ms} ms, ${load.throughputPerSecond}/s`,
          met: load.p95Ms <= 50 && load.errorRate === 0 && load.droppedIterations === 0,
        },
      ],
    };
    console.log(`load: ${JSON.stringify(load)}`);
    for (const target of results.targets) {
      console.log(
        `${target.met ? 'met   ' : 'MISSED'} ${target.name}: ${target.measured} (target ${target.target})`,
      );
    }
    mkdirSync(path.dirname(resultsPath), { recursive: true });
    writeFileSync(resultsPath, JSON.stringify(results, null, 2) + '\n');
    console.log(`wrote ${path.relative(process.cwd(), resultsPath)}`);
  } finally {
    for (const close of cleanup.reverse()) {
      await close().catch((err: unknown) => console.error('cleanup failed:', err));
    }
  }
}

async function keyOf(primaryUrl: string): Promise<string> {
  const db = new Client(primaryUrl);
  await db.connect();
  try {
    const { rows } = await db.query<{ id: string }>('SELECT id FROM collections WHERE name = $1', [
      collection,
    ]);
    return rows[0].id;
  } finally {
    await db.end();
  }
}
