import type { Config } from '../config';
import type { AuditLog } from '../domain/audit';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import { AuditLogRepository } from '../stores/postgres/audit-log-repository';
import { ApiKeysRepository } from '../stores/postgres/api-keys-repository';
import { ChunksRepository } from '../stores/postgres/chunks-repository';
import { CollectionsRepository } from '../stores/postgres/collections-repository';
import { CredentialsFile, type DatabaseCredentials } from '../stores/postgres/database-credentials';
import { Database } from '../stores/postgres/database';
import { DocumentsRepository } from '../stores/postgres/documents-repository';
import { startEmbeddedPostgres } from '../stores/postgres/embedded-postgres';
import { IndexingRepository } from '../stores/postgres/indexing-repository';
import {
  migrateLatest,
  migrationConnection,
  pendingMigrations,
} from '../stores/postgres/migrations';
import { PrincipalsRepository } from '../stores/postgres/principals-repository';
import { IngestQueue } from '../stores/queue/ingest-queue';
import knex from 'knex';
import type { Closers } from './closers';

export interface DataLayer {
  readonly db: Database;
  /** The primary's URL (the embedded server's when DATABASE_URL is unset). */
  readonly primaryUrl: string;
  /** The login from DATABASE_CREDENTIALS_FILE, which replaces the URLs' own; undefined without. */
  readonly credentials?: DatabaseCredentials;
  readonly queue: IngestQueue;
  /** Stops the queue's workers within the deadline; later calls do nothing. */
  stopQueue(deadlineMs: number): Promise<void>;
  readonly collections: CollectionsRepository;
  readonly documents: DocumentsRepository;
  readonly indexing: IndexingRepository;
  readonly chunks: ChunksRepository;
  /** Security events, appended to the hash-chained audit table on the primary. */
  readonly audit: AuditLog;
  /** Principals and their roles per collection; API keys. */
  readonly principals: PrincipalsRepository;
  readonly apiKeys: ApiKeysRepository;
  readonly embedded: boolean;
}

/**
 * Postgres (the embedded server when DATABASE_URL is unset), the schema, the ingest queue in the
 * same database, and the repositories over them.
 */
export async function startDataLayer(
  config: Config,
  deps: {
    metrics: Metrics;
    logger: Logger;
    closers: Closers;
    /** Where failures of primary queries go: the dependency-state owner. */
    onPrimaryFailure: (err: unknown) => void;
  },
): Promise<DataLayer> {
  const { metrics, logger, closers } = deps;
  let primaryUrl = config.DATABASE_URL;
  if (!primaryUrl) {
    const embedded = await startEmbeddedPostgres({
      dataDir: config.EMBEDDED_POSTGRES_DIR,
      port: config.EMBEDDED_POSTGRES_PORT,
      onLog: (line) => logger.debug('embedded postgres', { line }),
    });
    closers.push(() => embedded.stop());
    logger.info('embedded postgres started', { dataDir: config.EMBEDDED_POSTGRES_DIR });
    primaryUrl = embedded.url;
  }

  let credentials: CredentialsFile | undefined;
  if (config.DATABASE_CREDENTIALS_FILE) {
    credentials = await CredentialsFile.open(config.DATABASE_CREDENTIALS_FILE, {
      checkIntervalMs: config.DATABASE_CREDENTIALS_CHECK_INTERVAL_MS,
      onRotated: (user) => logger.info('database credentials changed', { user }),
      onError: (err) => logger.warn('database credentials file unusable', { err }),
    });
    const file = credentials;
    closers.push(async () => file.close());
  }

  const db = new Database({
    primaryUrl,
    credentials,
    replicaUrls: config.DATABASE_REPLICA_URLS,
    poolMax: config.DATABASE_POOL_MAX,
    statementTimeoutMs: config.DATABASE_STATEMENT_TIMEOUT_MS,
    lockTimeoutMs: config.DATABASE_LOCK_TIMEOUT_MS,
    replicaMaxLagSeconds: config.DATABASE_REPLICA_MAX_LAG_SECONDS,
    replicaCheckIntervalMs: config.DATABASE_REPLICA_CHECK_INTERVAL_MS,
    applicationName: config.SERVICE_NAME,
    metrics,
    onPrimaryFailure: deps.onPrimaryFailure,
  });
  closers.push(() => db.close());
  await db.start();
  const applied = await migrateOnStart(config, db);
  if (applied.length) logger.info('migrations applied', { applied });

  const queue = new IngestQueue({
    connectionString: primaryUrl,
    credentials,
    metrics,
    retryLimit: config.QUEUE_RETRY_LIMIT,
    retryDelaySeconds: config.QUEUE_RETRY_DELAY_SECONDS,
    expireSeconds: config.QUEUE_JOB_EXPIRE_SECONDS,
    concurrency: config.QUEUE_CONCURRENCY,
    // Expired jobs (a worker that died) are noticed at most one maintenance run later.
    maintenanceIntervalSeconds: Math.max(1, Math.min(30, config.QUEUE_JOB_EXPIRE_SECONDS)),
    onOrphansRecovered: (count) =>
      logger.warn('retried ingest jobs whose worker died', { jobs: count }),
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

  // Its appends in flight when the service stops are written: closing the primary pool waits for
  // the transactions using it (composition test in audit-log.test.ts).
  const audit = new AuditLogRepository(db);
  const collections = new CollectionsRepository(db);
  const principals = new PrincipalsRepository(db);
  return {
    db,
    primaryUrl,
    credentials,
    queue,
    stopQueue,
    collections,
    documents: new DocumentsRepository(db, collections, queue),
    indexing: new IndexingRepository(db, collections),
    chunks: new ChunksRepository(db),
    audit,
    principals,
    apiKeys: new ApiKeysRepository(db, principals),
    embedded: !config.DATABASE_URL,
  };
}

/**
 * Brings the schema up to date before anything uses it. With MIGRATION_DATABASE_URL the
 * migrations run on that login (the schema owner's) and the service's own needs no DDL at all.
 * Without it, they run on the service's connection only when some are pending: a service whose
 * role may not run DDL starts on a schema the migration Job already brought up to date, reading
 * knex's tables and writing nothing.
 */
async function migrateOnStart(config: Config, db: Database): Promise<string[]> {
  if (config.MIGRATION_DATABASE_URL) {
    const migrator = knex({
      client: 'pg',
      connection: migrationConnection(config.MIGRATION_DATABASE_URL, {
        statementTimeoutMs: config.DATABASE_STATEMENT_TIMEOUT_MS,
        lockTimeoutMs: config.DATABASE_LOCK_TIMEOUT_MS,
      }),
      pool: { min: 0, max: 1 },
    });
    try {
      return await migrateLatest(migrator);
    } finally {
      await migrator.destroy();
    }
  }
  if ((await pendingMigrations(db.primary)).length === 0) return [];
  return migrateLatest(db.primary);
}
