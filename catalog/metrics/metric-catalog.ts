// The one list of every metric the service exports: names, help, labels, label values and bucket
// layouts. The app registers its prom-client instruments from it (and takes its dependency names
// from it); alerts/ and dashboards/ import it to build queries, and the consistency tests reject any query naming something not listed here.
// Pure data: importing it has no side effects.

export type MetricType = 'counter' | 'gauge' | 'histogram';

export interface MetricDefinition<L extends string = string> {
  readonly name: string;
  readonly type: MetricType;
  readonly help: string;
  readonly labels: readonly L[];
  /** Histogram bucket upper bounds in the metric's unit (seconds for durations). */
  readonly buckets?: readonly number[];
}

/** Label values that alerts and dashboards may select on; the app uses only these. */
export const labelValues = {
  stage: ['embed', 'retrieve', 'generate', 'db', 'cache'],
  cache: ['embedding', 'query', 'chunks'],
  cacheResult: ['hit', 'miss', 'error'],
  jobOutcome: ['completed', 'retried', 'dead'],
  queueState: ['queued', 'active', 'dead'],
  dependency: ['postgres_primary', 'postgres_replica', 'redis', 'vector_store', 'embedder', 'chat'],
  readTarget: ['replica', 'primary'],
  retriever: ['lexical'],
  rateLimitDecision: ['allowed', 'limited', 'denied', 'exempt'],
  rateLimitStore: ['redis', 'local', 'none'],
} as const;

export type Stage = (typeof labelValues.stage)[number];
export type Dependency = (typeof labelValues.dependency)[number];

/** Latency buckets chosen so every SLO threshold in alerts/ is an exact bucket boundary. */
export const httpDurationBuckets = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
] as const;
export const stageDurationBuckets = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
] as const;
/** Accepted-to-searchable delay for ingested documents (the freshness SLO). */
export const ingestLagBuckets = [0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800] as const;

export const metrics = {
  httpRequests: {
    name: 'rag_http_requests_total',
    type: 'counter',
    help: 'HTTP requests served, by method, route template and status code.',
    labels: ['method', 'route', 'status_code'],
  },
  httpRequestDuration: {
    name: 'rag_http_request_duration_seconds',
    type: 'histogram',
    help: 'HTTP request duration from first byte in to last byte out, by route template.',
    labels: ['method', 'route', 'status_code'],
    buckets: httpDurationBuckets,
  },
  stageDuration: {
    name: 'rag_stage_duration_seconds',
    type: 'histogram',
    help: 'Duration of one RAG pipeline stage (embed, retrieve, generate, db, cache).',
    labels: ['stage'],
    buckets: stageDurationBuckets,
  },
  cacheRequests: {
    name: 'rag_cache_requests_total',
    type: 'counter',
    help: 'Cache lookups by cache (embedding, query, chunks) and result (hit, miss, error).',
    labels: ['cache', 'result'],
  },
  ingestJobs: {
    name: 'rag_ingest_jobs_total',
    type: 'counter',
    help: 'Ingestion job attempts by outcome (completed, retried, dead).',
    labels: ['outcome'],
  },
  ingestedChunks: {
    name: 'rag_ingested_chunks_total',
    type: 'counter',
    help: 'Chunks embedded and written to the vector store.',
    labels: [],
  },
  ingestLag: {
    name: 'rag_ingest_lag_seconds',
    type: 'histogram',
    help: 'Delay from a document being accepted to it being searchable.',
    labels: [],
    buckets: ingestLagBuckets,
  },
  queueDepth: {
    name: 'rag_ingest_queue_jobs',
    type: 'gauge',
    help: 'Ingestion jobs in the durable queue, by state (queued, active, dead).',
    labels: ['state'],
  },
  dependencyUp: {
    name: 'rag_dependency_up',
    type: 'gauge',
    help: '1 when the dependency is up, 0 when it is degraded or down: the state /readyz reports.',
    labels: ['dependency'],
  },
  replicaLag: {
    name: 'rag_postgres_replica_lag_seconds',
    type: 'gauge',
    help: 'Replay lag of a Postgres read replica as last measured by the service.',
    labels: ['replica'],
  },
  dbReads: {
    name: 'rag_db_reads_total',
    type: 'counter',
    help: 'Metadata reads by the pool that served them (replica, or primary as fallback).',
    labels: ['target'],
  },
  retrievalDegraded: {
    name: 'rag_retrieval_degraded_total',
    type: 'counter',
    help: 'Queries answered without one of the hybrid retrievers (lexical) because it failed.',
    labels: ['retriever'],
  },
  rateLimitDecisions: {
    name: 'rag_rate_limit_decisions_total',
    type: 'counter',
    help: 'Rate-limit decisions on /v1 requests: allowed, limited (429), denied (403, deny list) or exempt (allow list), by the store that counted them (redis, local, none).',
    labels: ['decision', 'store'],
  },
  rateLimitFallback: {
    name: 'rag_rate_limit_fallback',
    type: 'gauge',
    help: '1 while Redis is unreachable and each process enforces its own share of every rate limit.',
    labels: [],
  },
} as const satisfies Record<string, MetricDefinition>;

export type MetricKey = keyof typeof metrics;

/**
 * Series names Prometheus exposes for a metric: histograms add _bucket, _sum and _count.
 * Used by consistency tests to resolve a name found in a query back to the catalog.
 */
export function exposedSeriesNames(def: MetricDefinition): string[] {
  if (def.type !== 'histogram') return [def.name];
  return ['_bucket', '_sum', '_count'].map((suffix) => def.name + suffix);
}

/**
 * Metrics from prom-client's collectDefaultMetrics that alerts and dashboards may use. Listed
 * explicitly so a query on a name prom-client does not export fails the consistency test.
 */
export const defaultProcessMetrics = [
  'process_cpu_seconds_total',
  'process_cpu_user_seconds_total',
  'process_cpu_system_seconds_total',
  'process_resident_memory_bytes',
  'process_start_time_seconds',
  'process_open_fds',
  'process_max_fds',
  'nodejs_eventloop_lag_p99_seconds',
  'nodejs_eventloop_lag_seconds',
  'nodejs_heap_size_used_bytes',
  'nodejs_heap_size_total_bytes',
  'nodejs_active_handles_total',
  'nodejs_gc_duration_seconds_bucket',
  'nodejs_gc_duration_seconds_sum',
  'nodejs_gc_duration_seconds_count',
] as const;
