import type { Config } from '../config';
import type { VectorIndexRebuild } from '../rag/retrieval/rehydrate-vector-index';
import type { Cache } from '../stores/cache/cache';
import type { Database, ReplicaHealth } from '../stores/postgres/database';
import { QUEUE_SCHEMA, type IngestQueue } from '../stores/queue/ingest-queue';
import type { VectorStore } from '../stores/vector/vector-store';
import type { DependencyProbe, DependencyState, ProbeResult } from './dependency-states';

// The probes the state owner runs, one per dependency this deployment uses. Each returns what it
// saw; deciding what that means for the pod is readiness.ts's job.

/** Relations every request path needs; gone after `npm run migrate -- down --all`. */
const requiredRelations = [
  'collections',
  'documents',
  'chunks',
  'ingest_job_leases',
  `${QUEUE_SCHEMA}.job`,
];

export interface ProbeTargets {
  readonly config: Config;
  readonly db: Database;
  readonly queue: IngestQueue;
  readonly cache: Cache;
  readonly vectors: VectorStore;
  readonly rebuild?: VectorIndexRebuild;
}

export function dependencyProbes(targets: ProbeTargets): DependencyProbe[] {
  const { config, db, queue, cache, vectors, rebuild } = targets;
  const probes: DependencyProbe[] = [
    { name: 'postgres_primary', probe: () => probePrimary(db, queue) },
    {
      name: 'vector_store',
      async probe() {
        // ensureReady is remembered once it succeeds; until then (a store unreachable at
        // start-up) every probe retries it, so the service heals without a restart.
        await vectors.ensureReady();
        await vectors.ping();
        const detail = { kind: vectors.kind };
        if (rebuild && !rebuild.ready) {
          return {
            state: 'down',
            podCannotServe: `in-process vector index: ${rebuild.status()}`,
            detail: { ...detail, index: rebuild.status() },
          };
        }
        return { state: 'up', detail };
      },
    },
  ];
  if (config.DATABASE_REPLICA_URLS.length > 0) {
    probes.push({ name: 'postgres_replica', probe: () => probeReplicas(db) });
  }
  if (cache.kind === 'redis') {
    probes.push({
      name: 'redis',
      async probe() {
        await cache.ping();
        return { state: 'up' };
      },
    });
  }
  for (const [name, url, apiKey] of [
    ['embedder', config.EMBEDDER_URL, config.EMBEDDER_API_KEY],
    ['chat', config.CHAT_URL, config.CHAT_API_KEY],
  ] as const) {
    if (!url) continue;
    probes.push({
      name,
      // Every OpenAI-compatible server lists its models; it costs nothing, unlike a test embedding.
      // Failures of the real calls reach the owner from the adapters (outcome-reports.ts).
      async probe() {
        const res = await fetch(`${url.replace(/\/$/, '')}/models`, {
          headers: apiKey ? { authorization: `Bearer ${apiKey}` } : {},
          signal: AbortSignal.timeout(1_000),
        });
        await res.body?.cancel();
        if (res.status >= 500) throw new Error(`GET /models answered ${res.status}`);
        return { state: 'up' };
      },
    });
  }
  return probes;
}

async function probePrimary(db: Database, queue: IngestQueue): Promise<ProbeResult> {
  const { rows } = await db.primary.raw<{ rows: { missing: string[] | null }[] }>(
    `SELECT array_agg(name) FILTER (WHERE to_regclass(name) IS NULL) AS missing
       FROM unnest(?::text[]) AS name`,
    [requiredRelations],
  );
  const missing = rows[0]?.missing ?? [];
  if (missing.length > 0) {
    return {
      state: 'down',
      podCannotServe: `database schema missing (${missing.join(', ')}): run \`npm run migrate\``,
      detail: { missing },
    };
  }
  // The schema is back after a drop: put the queues in again so ingestion works without a restart.
  if (!(await queue.queuesExist())) await queue.ensureQueues();
  return { state: 'up' };
}

/**
 * Per replica: `up` serves reads, `degraded` answers but is too far behind to be read from,
 * `down` does not answer. The `postgres_replica` dependency is up only when every replica is up,
 * down when none can serve a read (reads all go to the primary), degraded in between.
 */
async function probeReplicas(db: Database): Promise<ProbeResult> {
  // The same measurement that routes reads, so routing and the reported state never disagree.
  await db.checkNow();
  const { replicas, readTarget } = db.health();
  const stateOf = (r: ReplicaHealth): DependencyState =>
    r.state === 'up' ? 'up' : r.state === 'lagging' ? 'degraded' : 'down';
  const states = replicas.map(stateOf);
  const state: DependencyState = states.every((s) => s === 'up')
    ? 'up'
    : states.some((s) => s === 'up')
      ? 'degraded'
      : 'down';
  return {
    state,
    detail: {
      readTarget,
      replicas: replicas.map((r, i) => ({ ...r, state: states[i], routing: r.state })),
    },
  };
}
