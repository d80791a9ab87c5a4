import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import path from 'node:path';
import type { Config } from './config';
import { describeConfig } from './config';
import { apiRoutes, createApp } from './http/app';
import { DependencyHealth, type DependencyCheck } from './observability/dependency-health';
import { createLogger, type Logger } from './observability/logger';
import { createMetrics, type Metrics } from './observability/metrics';
import { StageTimer } from './observability/stage-timer';
import { initTracing, shutdownTracing } from './observability/tracing';
import type { Answerer } from './rag/answering/answerer';
import { ChatAnswerer } from './rag/answering/chat-answerer';
import { ExtractiveAnswerer } from './rag/answering/extractive-answerer';
import { chunkDocument } from './rag/chunking/chunker';
import { seedDemoCorpus } from './rag/corpus/demo-corpus';
import { CachingEmbedder } from './rag/embedding/caching-embedder';
import type { Embedder } from './rag/embedding/embedder';
import { HttpEmbedder } from './rag/embedding/http-embedder';
import { LocalEmbedder } from './rag/embedding/local-embedder';
import { IngestionWorker } from './rag/ingestion/ingestion-worker';
import { QueryPipeline } from './rag/retrieval/query-pipeline';
import { VectorIndexRebuild } from './rag/retrieval/rehydrate-vector-index';
import type { Cache } from './stores/cache/cache';
import { MemoryCache } from './stores/cache/memory-cache';
import { RedisCache } from './stores/cache/redis-cache';
import { CollectionsRepository } from './stores/postgres/collections-repository';
import { Database } from './stores/postgres/database';
import { ChunksRepository } from './stores/postgres/chunks-repository';
import { DocumentsRepository } from './stores/postgres/documents-repository';
import { IndexingRepository } from './stores/postgres/indexing-repository';
import {
  startEmbeddedPostgres,
  type EmbeddedPostgresServer,
} from './stores/postgres/embedded-postgres';
import { migrateLatest } from './stores/postgres/migrations';
import { IngestQueue } from './stores/queue/ingest-queue';
import { InProcessVectorStore } from './stores/vector/in-process-vector-store';
import { QdrantVectorStore } from './stores/vector/qdrant-vector-store';
import type { VectorStore } from './stores/vector/vector-store';
import { CollectionUseCases } from './use-cases/collections';
import { DocumentUseCases } from './use-cases/documents';
import { QueryUseCase } from './use-cases/query';

export interface RunningService {
  readonly url: string;
  readonly port: number;
  readonly config: Config;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly health: DependencyHealth;
  /** Stops accepting, drains requests and jobs, closes every pool, within SHUTDOWN_DEADLINE_MS. */
  close(): Promise<void>;
}

const version = process.env.npm_package_version ?? '0.1.0';

/**
 * Builds the whole service from validated configuration. Every optional dependency has an
 * embedded default, chosen here and nowhere else: the rest of the code only sees the interfaces.
 */
export async function startService(
  config: Config,
  options: { logDestination?: NodeJS.WritableStream } = {},
): Promise<RunningService> {
  const logger = createLogger({
    level: config.LOG_LEVEL,
    service: config.SERVICE_NAME,
    destination: options.logDestination,
  });
  const metrics = createMetrics();
  const tracer = initTracing({
    serviceName: config.SERVICE_NAME,
    otlpEndpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT,
  });
  const timer = new StageTimer(metrics, tracer);
  logger.info('starting', { version, config: describeConfig(config) });

  // Everything started so far, closed in reverse if a later step fails.
  const closers: (() => Promise<unknown>)[] = [];
  const closeAll = async () => {
    for (const close of closers.splice(0).reverse()) {
      await close().catch((err) => logger.warn('error while closing', { err }));
    }
  };

  try {
    let embeddedPostgres: EmbeddedPostgresServer | undefined;
    if (!config.DATABASE_URL) {
      embeddedPostgres = await startEmbeddedPostgres({
        dataDir: config.EMBEDDED_POSTGRES_DIR,
        port: config.EMBEDDED_POSTGRES_PORT,
        onLog: (line) => logger.debug('embedded postgres', { line }),
      });
      closers.push(() => embeddedPostgres!.stop());
      logger.info('embedded postgres started', { dataDir: config.EMBEDDED_POSTGRES_DIR });
    }
    const primaryUrl = config.DATABASE_URL ?? embeddedPostgres!.url;

    const db = new Database({
      primaryUrl,
      replicaUrls: config.DATABASE_REPLICA_URLS,
      poolMax: config.DATABASE_POOL_MAX,
      statementTimeoutMs: config.DATABASE_STATEMENT_TIMEOUT_MS,
      lockTimeoutMs: config.DATABASE_LOCK_TIMEOUT_MS,
      replicaMaxLagSeconds: config.DATABASE_REPLICA_MAX_LAG_SECONDS,
      replicaCheckIntervalMs: config.DATABASE_REPLICA_CHECK_INTERVAL_MS,
      applicationName: config.SERVICE_NAME,
      metrics,
    });
    closers.push(() => db.close());
    await db.start();
    const applied = await migrateLatest(db.primary);
    if (applied.length) logger.info('migrations applied', { applied });

    const queue = new IngestQueue({
      connectionString: primaryUrl,
      metrics,
      retryLimit: config.QUEUE_RETRY_LIMIT,
      retryDelaySeconds: config.QUEUE_RETRY_DELAY_SECONDS,
      expireSeconds: config.QUEUE_JOB_EXPIRE_SECONDS,
      concurrency: config.QUEUE_CONCURRENCY,
      // Expired jobs (a worker that died) are noticed at most one maintenance run later.
      maintenanceIntervalSeconds: Math.max(1, Math.min(30, config.QUEUE_JOB_EXPIRE_SECONDS)),
      onError: (err) => logger.warn('ingest queue error', { err }),
    });
    await queue.start();
    let queueStopped = false;
    const stopQueue = async (deadlineMs: number) => {
      if (queueStopped) return;
      queueStopped = true;
      await queue.stop(deadlineMs);
    };
    closers.push(() => stopQueue(config.SHUTDOWN_DEADLINE_MS));
    const collections = new CollectionsRepository(db);
    const documents = new DocumentsRepository(db, collections, queue);

    const cache = await createCache(config, logger);
    closers.push(() => cache.close());

    const embedder = createEmbedder(config, cache, metrics);
    const vectors: VectorStore = config.QDRANT_URL
      ? new QdrantVectorStore({
          url: config.QDRANT_URL,
          apiKey: config.QDRANT_API_KEY,
          timeoutMs: config.QDRANT_TIMEOUT_MS,
          model: embedder.model,
          dimensions: embedder.dimensions,
        })
      : new InProcessVectorStore(embedder.dimensions);
    closers.push(() => vectors.close());
    await vectors.ensureReady();
    // The in-process index is memory: rebuild it from Postgres, in the background so an embedder
    // outage at start-up shows as "not ready" rather than a crash loop.
    const rebuild =
      vectors.kind === 'in-process'
        ? new VectorIndexRebuild({
            db,
            embedder,
            vectors,
            onRestored: (chunks) =>
              logger.info('in-process vector index rebuilt from postgres', { chunks }),
            onError: (err, retryInMs) =>
              logger.warn('rebuilding the in-process vector index failed; retrying', {
                err,
                retryInMs,
              }),
          })
        : undefined;
    rebuild?.start();
    closers.push(async () => rebuild?.stop());

    const extractive = new ExtractiveAnswerer();
    const answerer: Answerer = config.CHAT_URL
      ? new ChatAnswerer({
          url: config.CHAT_URL,
          model: config.CHAT_MODEL,
          apiKey: config.CHAT_API_KEY,
          timeoutMs: config.CHAT_TIMEOUT_MS,
        })
      : extractive;
    const retrieval = new QueryPipeline({
      chunks: new ChunksRepository(db),
      embedder,
      vectors,
      answerer,
      fallbackAnswerer: extractive,
      cache,
      cacheTtlSeconds: config.CACHE_TTL_SECONDS,
      timer,
      metrics,
      logger,
    });

    const worker = new IngestionWorker({
      indexing: new IndexingRepository(db, collections),
      embedder,
      vectors,
      chunk: chunkDocument,
      chunkSize: config.CHUNK_SIZE,
      chunkOverlap: config.CHUNK_OVERLAP,
      embedBatchSize: config.EMBEDDER_BATCH_SIZE,
      metrics,
      onEvent: (event) =>
        logger.log(
          event.type === 'failed' || event.type === 'dead' ? 'warn' : 'info',
          `ingest ${event.type}`,
          event,
        ),
    });
    await queue.startWorkers(worker);

    const health = new DependencyHealth(
      dependencyChecks(config, db, cache, vectors, rebuild),
      metrics,
      logger,
      {
        intervalMs: 2_000,
        timeoutMs: 1_000,
      },
    );
    await health.start();
    closers.push(async () => health.stop());
    // Readiness flips as soon as the index is whole, not at the next periodic check.
    void rebuild?.whenDone().then(() => health.refresh());

    let shuttingDown = false;
    const api = {
      collections: new CollectionUseCases({
        collections,
        vectors,
        embedding: { model: embedder.model, dimensions: embedder.dimensions },
        logger,
      }),
      documents: new DocumentUseCases({ collections, documents, vectors, logger }),
      queries: new QueryUseCase({
        collections,
        retrieval,
        timeLookup: (fn) => timer.time('db', fn),
      }),
      maxDocumentBytes: config.MAX_DOCUMENT_BYTES,
    };
    const app = createApp({
      api,
      health,
      metrics,
      logger,
      tracer,
      version,
      isShuttingDown: () => shuttingDown,
    });
    const server = await listen(app, config.PORT, config.HOST);
    server.requestTimeout = 60_000;
    server.headersTimeout = 15_000;
    const port = (server.address() as AddressInfo).port;
    const host = config.HOST === '0.0.0.0' || config.HOST === '::' ? '127.0.0.1' : config.HOST;
    const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
    logger.info('listening', {
      url,
      routes: apiRoutes(api).length,
      database: embeddedPostgres ? 'embedded' : 'external',
      cache: cache.kind,
      vectors: vectors.kind,
      embedder: embedder.model,
      answerer: answerer.kind,
    });

    if (config.SEED_DEMO_CORPUS ?? !config.DATABASE_URL) {
      // In the background: the API is usable while the runbooks are queued.
      void seedDemoCorpus({
        dir: path.resolve(config.DEMO_CORPUS_DIR),
        collections: api.collections,
        documents: api.documents,
        maxDocumentBytes: config.MAX_DOCUMENT_BYTES,
        logger,
      }).catch((err) => logger.error('demo corpus seeding failed', { err }));
    }

    let closing: Promise<void> | undefined;
    const close = () => {
      closing ??= (async () => {
        shuttingDown = true;
        const deadline = Date.now() + config.SHUTDOWN_DEADLINE_MS;
        await drainHttp(server, config.SHUTDOWN_DEADLINE_MS);
        // The queue drains its in-flight jobs within whatever is left of the deadline.
        await stopQueue(Math.max(0, deadline - Date.now()));
        await closeAll();
        await shutdownTracing().catch(() => undefined);
        logger.info('stopped');
      })();
      return closing;
    };
    return { url, port, config, logger, metrics, health, close };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

async function createCache(config: Config, logger: Logger): Promise<Cache> {
  if (!config.REDIS_URL) return new MemoryCache();
  const redis = new RedisCache(config.REDIS_URL, {
    onError: (err) => logger.debug('redis connection error', { err }),
  });
  // Starting without Redis is allowed (the cache is an optimisation); it reconnects by itself.
  await redis.waitUntilReady(2_000).catch((err) => logger.warn('starting without redis', { err }));
  return redis;
}

function createEmbedder(config: Config, cache: Cache, metrics: Metrics): Embedder {
  if (!config.EMBEDDER_URL) {
    // The local embedder costs microseconds per text: caching it would only add a round trip.
    return new LocalEmbedder(config.EMBEDDER_DIMENSIONS);
  }
  const remote = new HttpEmbedder({
    url: config.EMBEDDER_URL,
    model: config.EMBEDDER_MODEL!,
    dimensions: config.EMBEDDER_DIMENSIONS,
    apiKey: config.EMBEDDER_API_KEY,
    batchSize: config.EMBEDDER_BATCH_SIZE,
    timeoutMs: config.EMBEDDER_TIMEOUT_MS,
  });
  return new CachingEmbedder(remote, cache, { metrics, ttlSeconds: config.CACHE_TTL_SECONDS });
}

function dependencyChecks(
  config: Config,
  db: Database,
  cache: Cache,
  vectors: VectorStore,
  rebuild: VectorIndexRebuild | undefined,
): DependencyCheck[] {
  const checks: DependencyCheck[] = [
    {
      name: 'postgres_primary',
      critical: true,
      async check() {
        await db.primary.raw('SELECT 1');
      },
    },
    {
      name: 'vector_store',
      critical: true,
      async check() {
        await vectors.ping();
        if (rebuild && !rebuild.ready) throw new Error(rebuild.status());
        return { kind: vectors.kind };
      },
    },
  ];
  if (config.DATABASE_REPLICA_URLS.length > 0) {
    checks.push({
      name: 'postgres_replica',
      critical: false,
      async check() {
        const health = db.health();
        const detail = { readTarget: health.readTarget, replicas: health.replicas };
        if (health.readTarget !== 'replica') {
          throw Object.assign(new Error('no usable replica: reads fall back to the primary'), {
            detail,
          });
        }
        return detail;
      },
    });
  }
  if (cache.kind === 'redis') {
    checks.push({ name: 'redis', critical: false, check: () => cache.ping() });
  }
  for (const [name, url, apiKey] of [
    ['embedder', config.EMBEDDER_URL, config.EMBEDDER_API_KEY],
    ['chat', config.CHAT_URL, config.CHAT_API_KEY],
  ] as const) {
    if (!url) continue;
    checks.push({
      name,
      critical: false,
      // Every OpenAI-compatible server lists its models; it costs nothing, unlike a test embedding.
      async check() {
        const res = await fetch(`${url.replace(/\/$/, '')}/models`, {
          headers: apiKey ? { authorization: `Bearer ${apiKey}` } : {},
          signal: AbortSignal.timeout(1_000),
        });
        await res.body?.cancel();
        if (res.status >= 500) throw new Error(`GET /models answered ${res.status}`);
      },
    });
  }
  return checks;
}

function listen(app: ReturnType<typeof createApp>, port: number, host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host);
    server.once('listening', () => resolve(server));
    server.once('error', reject);
  });
}

/** Stops accepting connections, lets in-flight requests finish, and cuts the rest at the deadline. */
async function drainHttp(server: Server, deadlineMs: number): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  // Keep-alive connections that go idle after their last response are closed as they do.
  const sweep = setInterval(() => server.closeIdleConnections(), 100);
  const timeout = new Promise<void>((resolve) => setTimeout(resolve, deadlineMs).unref());
  await Promise.race([closed, timeout]);
  clearInterval(sweep);
  server.closeAllConnections();
}
