import { ConfigError, loadConfig, type Config } from './config';
import { createMetrics } from './observability/metrics';
import { chunkDocument } from './rag/chunking/chunker';
import type { Embedder } from './rag/embedding/embedder';
import { HttpEmbedder } from './rag/embedding/http-embedder';
import { LocalEmbedder } from './rag/embedding/local-embedder';
import { IngestionWorker } from './rag/ingestion/ingestion-worker';
import { CollectionsRepository } from './stores/postgres/collections-repository';
import { Database } from './stores/postgres/database';
import { DocumentsRepository } from './stores/postgres/documents-repository';
import { migrateLatest } from './stores/postgres/migrations';
import { IngestQueue } from './stores/queue/ingest-queue';
import { QdrantVectorStore } from './stores/vector/qdrant-vector-store';

// `npm run worker`: ingestion workers without the HTTP API, to scale indexing apart from serving.
// It needs what the API processes share with it: Postgres (documents + queue) and Qdrant (vectors).
// On the embedded default the service runs these same workers in-process instead.

function log(level: 'info' | 'error', message: string, fields: Record<string, unknown> = {}) {
  process.stdout.write(
    `${JSON.stringify({ level, message, service: 'rag-worker', time: new Date().toISOString(), ...fields })}\n`,
  );
}

function requireShared(config: Config): { databaseUrl: string; qdrantUrl: string } {
  const missing = [
    !config.DATABASE_URL && 'DATABASE_URL (the Postgres holding documents and the queue)',
    !config.QDRANT_URL && 'QDRANT_URL (an in-process vector index would be invisible to the API)',
  ].filter(Boolean);
  if (missing.length > 0) {
    throw new ConfigError(
      missing.map((m) => `${m} is required by the standalone worker; use \`npm start\` otherwise`),
    );
  }
  return { databaseUrl: config.DATABASE_URL!, qdrantUrl: config.QDRANT_URL! };
}

async function main(): Promise<void> {
  const config = loadConfig();
  const { databaseUrl, qdrantUrl } = requireShared(config);
  const metrics = createMetrics();
  const database = new Database({
    primaryUrl: databaseUrl,
    replicaUrls: config.DATABASE_REPLICA_URLS,
    poolMax: config.DATABASE_POOL_MAX,
    statementTimeoutMs: config.DATABASE_STATEMENT_TIMEOUT_MS,
    lockTimeoutMs: config.DATABASE_LOCK_TIMEOUT_MS,
    replicaMaxLagSeconds: config.DATABASE_REPLICA_MAX_LAG_SECONDS,
    replicaCheckIntervalMs: config.DATABASE_REPLICA_CHECK_INTERVAL_MS,
    applicationName: 'rag-worker',
    metrics,
  });
  await migrateLatest(database.primary);
  await database.start();
  const queue = new IngestQueue({
    connectionString: databaseUrl,
    metrics,
    retryLimit: config.QUEUE_RETRY_LIMIT,
    retryDelaySeconds: config.QUEUE_RETRY_DELAY_SECONDS,
    expireSeconds: config.QUEUE_JOB_EXPIRE_SECONDS,
    concurrency: config.QUEUE_CONCURRENCY,
    onError: (err) => log('error', 'ingest queue error', { err: String(err) }),
  });
  await queue.start();

  const embedder: Embedder = config.EMBEDDER_URL
    ? new HttpEmbedder({
        url: config.EMBEDDER_URL,
        model: config.EMBEDDER_MODEL,
        dimensions: config.EMBEDDER_DIMENSIONS,
        apiKey: config.EMBEDDER_API_KEY,
        batchSize: config.EMBEDDER_BATCH_SIZE,
        timeoutMs: config.EMBEDDER_TIMEOUT_MS,
      })
    : new LocalEmbedder(config.EMBEDDER_DIMENSIONS);
  const vectors = new QdrantVectorStore({
    url: qdrantUrl,
    apiKey: config.QDRANT_API_KEY,
    timeoutMs: config.QDRANT_TIMEOUT_MS,
    model: embedder.model,
    dimensions: embedder.dimensions,
  });
  await vectors.ensureReady();

  const collections = new CollectionsRepository(database);
  const documents = new DocumentsRepository(database, collections, queue);
  const worker = new IngestionWorker({
    documents,
    embedder,
    vectors,
    chunk: chunkDocument,
    chunkSize: config.CHUNK_SIZE,
    chunkOverlap: config.CHUNK_OVERLAP,
    embedBatchSize: config.EMBEDDER_BATCH_SIZE,
    metrics,
    onEvent: (event) =>
      log(event.type === 'failed' ? 'error' : 'info', `document ${event.type}`, event),
  });
  await queue.startWorkers(worker);
  log('info', 'ingestion worker started', { concurrency: config.QUEUE_CONCURRENCY });

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log('info', 'stopping', { signal, deadlineMs: config.SHUTDOWN_DEADLINE_MS });
    queue
      .stop(config.SHUTDOWN_DEADLINE_MS)
      .then(() => Promise.all([database.close(), vectors.close()]))
      .then(
        () => process.exit(0),
        (err) => {
          log('error', 'shutdown failed', { err: String(err) });
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(
    `worker failed to start: ${err instanceof Error ? err.stack : String(err)}\n`,
  );
  process.exit(1);
});
