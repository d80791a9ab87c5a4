import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import PgBoss from 'pg-boss';
import type { Knex } from 'knex';
import type { Metrics } from '../../observability/metrics';
import { withLogin, type DatabaseCredentials } from '../postgres/database-credentials';
import { createKnexPool } from '../postgres/database';

// The durable ingestion queue, on pg-boss (Postgres) rather than BullMQ (Redis), because:
// - the queue lives in the same database as the documents, so the document row and its job are
//   written in ONE transaction: an acknowledged ingest always has a job, a rolled-back one never
//   does (no outbox, no two-phase dance between two stores);
// - the embedded default needs no Redis, and Redis stays what it is in this service — a cache
//   whose loss never loses data;
// - pg-boss is maintained and gives what the issue asks for out of the box: SKIP LOCKED delivery,
//   retries with exponential backoff, expiry of jobs whose worker died, dead-letter queues.
// A job only names the document version to index; the content is read from Postgres, so a job
// can always re-run and a stale job (content replaced since) is recognised and skipped.

export const QUEUE_SCHEMA = 'pgboss';
const INGEST_QUEUE = 'ingest';
const DEAD_LETTER_QUEUE = 'ingest-dead';
const LEASES = 'ingest_job_leases';
/** Prefix of the application_name of each process's liveness session. */
const WORKER_SESSION_PREFIX = 'rag-ingest-worker:';

export interface IngestJob {
  readonly documentId: string;
  readonly contentHash: string;
}

export interface Attempt {
  /** 0 on the first attempt. */
  readonly retryCount: number;
  readonly retryLimit: number;
}

export interface IngestHandlers {
  /** Does the work; a rejection fails the attempt (retried with backoff until the limit). */
  process(job: IngestJob, attempt: Attempt): Promise<unknown>;
  /** Called after a failed attempt, before the queue schedules a retry or gives up. */
  failed(job: IngestJob, error: Error, willRetry: boolean): Promise<void>;
  /** Called once per job that exhausted its retries (by failing or by expiring). */
  dead(job: IngestJob, lastError: string | null): Promise<void>;
}

export interface IngestQueueOptions {
  readonly connectionString: string;
  /** The login to use instead of the URL's, re-read when it changes (database-credentials.ts). */
  readonly credentials?: DatabaseCredentials;
  readonly metrics: Metrics;
  readonly retryLimit: number;
  readonly retryDelaySeconds: number;
  /** An active job not finished within this is failed (and retried): how dead workers are seen. */
  readonly expireSeconds: number;
  /** Parallel jobs per process once workers are started. */
  readonly concurrency: number;
  /** How often expiry and archiving run (pg-boss minimum 1). Default 30. */
  readonly maintenanceIntervalSeconds?: number;
  /** Idle polling interval of each worker (pg-boss minimum 0.5). Default 1. */
  readonly pollingIntervalSeconds?: number;
  /** How often rag_ingest_queue_jobs is refreshed. Default 5000. */
  readonly depthRefreshIntervalMs?: number;
  readonly poolMax?: number;
  /** How often active jobs of dead workers are looked for. Default 5000. */
  readonly orphanSweepIntervalMs?: number;
  /** Told how many orphaned jobs a sweep failed into a retry. */
  readonly onOrphansRecovered?: (count: number) => void;
  readonly onError?: (error: unknown) => void;
}

export interface QueueDepth {
  readonly queued: number;
  readonly active: number;
  /** Jobs that exhausted their retries and wait for an operator's retry. */
  readonly dead: number;
}

export class IngestQueue {
  private readonly boss: PgBoss;
  private readonly workerIds: string[] = [];
  private depthTimer: NodeJS.Timeout | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  /** This process, as its leases and its liveness session name it. */
  readonly workerId = randomUUID();
  private liveness: Client | undefined;
  private started = false;
  private stopping = false;
  /** With rotating credentials: pg-boss's connections, from a pool that follows the login. */
  private readonly pool: Knex | undefined;
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly options: IngestQueueOptions) {
    const { credentials } = options;
    // pg-boss's own pool logs in once with a fixed user; with rotating credentials it runs its
    // SQL on a pool that takes every new connection with the current login instead.
    this.pool = credentials
      ? createKnexPool(options.connectionString, {
          poolMax: options.poolMax ?? 4,
          applicationName: 'rag-ingest-queue',
          credentials,
        })
      : undefined;
    this.boss = new PgBoss({
      ...(this.pool ? { db: poolExecutor(this.pool) } : {}),
      connectionString: options.connectionString,
      schema: QUEUE_SCHEMA,
      max: options.poolMax ?? 4,
      application_name: 'rag-ingest-queue',
      // Cron scheduling is unused; its timekeeper would only add polling.
      schedule: false,
      supervise: true,
      maintenanceIntervalSeconds: options.maintenanceIntervalSeconds ?? 30,
    });
    this.boss.on('error', (err) => (options.onError ?? defaultOnError)(err));
  }

  /** Connects, installs or upgrades pg-boss's schema if needed and declares the queues. */
  async start(): Promise<void> {
    await this.boss.start();
    await this.ensureQueues();
    this.started = true;
    await this.refreshDepth().catch(() => undefined);
    this.scheduleDepthRefresh();
  }

  /**
   * Fails (into a retry, or the dead letters once retries are exhausted) every active job whose
   * worker process is gone, and returns how many. A worker is alive while its liveness session is
   * connected: a process that crashes or is SIGKILLed loses its sockets at once, so a restarted
   * pod recovers its predecessor's jobs at start-up instead of after QUEUE_JOB_EXPIRE_SECONDS, and
   * any other pod recovers them at its next sweep. Safe against a worker wrongly thought dead (a
   * network partition): pg-boss completes only jobs still active, so its late result is dropped,
   * and indexing a document version twice is idempotent. Postgres shows every
   * session's application_name to every role (unlike its query or start time), so pods logging in
   * as different short-lived users (Vault's) still see each other alive.
   */
  async recoverOrphanedJobs(): Promise<number> {
    const db = this.boss.getDb();
    const { rows } = await db.executeSql(
      `WITH orphaned AS (
         DELETE FROM ${LEASES} l
          WHERE NOT EXISTS (SELECT 1 FROM pg_stat_activity a
                             WHERE a.application_name = $1 || l.worker)
          RETURNING job_id)
       SELECT o.job_id::text AS id FROM orphaned o
         JOIN ${QUEUE_SCHEMA}.job j ON j.id = o.job_id AND j.name = $2 AND j.state = 'active'`,
      [WORKER_SESSION_PREFIX, INGEST_QUEUE],
    );
    const ids = (rows as { id: string }[]).map((r) => r.id);
    if (ids.length > 0) {
      const output = {
        message: 'the worker holding this job died; retried without waiting for its expiry',
      };
      await Promise.all(ids.map((id) => this.boss.fail(INGEST_QUEUE, id, output)));
      this.options.onOrphansRecovered?.(ids.length);
    }
    return ids.length;
  }

  /**
   * Declares the queues (idempotent). Also how the service heals after its schema was dropped
   * and re-created under it (`npm run migrate -- down --all`, then up): the tables come back
   * empty, and without the queue rows pg-boss has nowhere to put a job.
   */
  async ensureQueues(): Promise<void> {
    const policy = {
      retryLimit: this.options.retryLimit,
      retryDelay: this.options.retryDelaySeconds,
      retryBackoff: true,
      expireInSeconds: this.options.expireSeconds,
    };
    const ingest = { name: INGEST_QUEUE, ...policy, deadLetter: DEAD_LETTER_QUEUE };
    await this.boss.createQueue(DEAD_LETTER_QUEUE);
    await this.boss.createQueue(INGEST_QUEUE, ingest);
    // createQueue keeps an existing queue as it was; configuration changes apply on restart.
    await this.boss.updateQueue(INGEST_QUEUE, ingest);
  }

  /** Whether the queues exist (false after the queue schema was dropped and re-created). */
  async queuesExist(): Promise<boolean> {
    const { rows } = await this.boss
      .getDb()
      .executeSql(`SELECT count(*)::int AS n FROM ${QUEUE_SCHEMA}.queue WHERE name = ANY($1)`, [
        [INGEST_QUEUE, DEAD_LETTER_QUEUE],
      ]);
    return (rows as { n: number }[])[0]?.n === 2;
  }

  /**
   * Adds a job inside the caller's transaction: it exists exactly when the transaction commits.
   * Local workers are woken on commit instead of waiting for their next poll.
   */
  async enqueue(job: IngestJob, trx: Knex.Transaction): Promise<string> {
    const id = await this.boss.send(
      INGEST_QUEUE,
      { documentId: job.documentId, contentHash: job.contentHash },
      {
        retryLimit: this.options.retryLimit,
        retryDelay: this.options.retryDelaySeconds,
        retryBackoff: true,
        expireInSeconds: this.options.expireSeconds,
        deadLetter: DEAD_LETTER_QUEUE,
        db: transactionExecutor(trx),
      },
    );
    if (!id) throw new Error('pg-boss did not create the ingest job');
    trx.executionPromise.then(
      () => this.wakeWorkers(),
      () => undefined,
    );
    return id;
  }

  /**
   * Drops the queue's pending and dead jobs of a document, inside the caller's transaction: used
   * when a document is deleted or re-queued by hand, so the dead-job count stays truthful.
   */
  async discard(documentId: string, trx: Knex.Transaction): Promise<void> {
    await trx.raw(
      `DELETE FROM ${QUEUE_SCHEMA}.job
        WHERE name = ? AND state IN ('created', 'retry', 'failed') AND data->>'documentId' = ?`,
      [INGEST_QUEUE, documentId],
    );
  }

  /** Starts `concurrency` polling workers for the ingest queue and one for its dead letters. */
  async startWorkers(handlers: IngestHandlers): Promise<void> {
    if (!this.started) throw new Error('IngestQueue.start() must run before startWorkers()');
    await this.connectLiveness();
    this.unsubscribe = this.options.credentials?.onChange(() => {
      this.moveLiveness().catch((err) => (this.options.onError ?? defaultOnError)(err));
    });
    await this.recoverOrphanedJobs();
    this.scheduleOrphanSweep();
    const pollingIntervalSeconds = this.options.pollingIntervalSeconds ?? 1;
    for (let i = 0; i < this.options.concurrency; i++) {
      // Filled in once work() returns; the handler only runs after a fetch, later still.
      const worker: { id?: string } = {};
      worker.id = await this.boss.work<IngestJob>(
        INGEST_QUEUE,
        { includeMetadata: true, batchSize: 1, pollingIntervalSeconds },
        async ([job]) => {
          try {
            await this.runAttempt(handlers, job);
          } finally {
            // pg-boss otherwise sleeps a full polling interval after every job, even with a
            // backlog; a notified worker fetches again at once (and sleeps only when idle).
            if (worker.id && !this.stopping) this.boss.notifyWorker(worker.id);
          }
        },
      );
      this.workerIds.push(worker.id);
    }
    this.workerIds.push(
      await this.boss.work<IngestJob>(
        DEAD_LETTER_QUEUE,
        { includeMetadata: true, batchSize: 1, pollingIntervalSeconds },
        async ([job]) => {
          await handlers.dead(job.data, errorMessageOf(job.output));
          this.options.metrics.ingestJobs.inc({ outcome: 'dead' });
        },
      ),
    );
  }

  /** Current counts, also published as rag_ingest_queue_jobs{state}. */
  async depth(): Promise<QueueDepth> {
    const { rows } = await this.boss.getDb().executeSql(
      `SELECT state::text AS state, count(*)::int AS count FROM ${QUEUE_SCHEMA}.job
          WHERE name = $1 AND state IN ('created', 'retry', 'active', 'failed') GROUP BY state`,
      [INGEST_QUEUE],
    );
    const count = (state: string) =>
      Number(
        (rows as { state: string; count: number }[]).find((r) => r.state === state)?.count ?? 0,
      );
    return {
      queued: count('created') + count('retry'),
      active: count('active'),
      dead: count('failed'),
    };
  }

  /**
   * Stops fetching, lets in-flight jobs finish until the deadline, then fails the unfinished ones
   * (so they are retried promptly elsewhere) and closes the pool.
   */
  async stop(deadlineMs: number): Promise<void> {
    this.stopping = true;
    if (this.depthTimer) clearTimeout(this.depthTimer);
    if (this.sweepTimer) clearTimeout(this.sweepTimer);
    this.unsubscribe?.();
    await this.boss.stop({ graceful: true, wait: true, close: true, timeout: deadlineMs });
    await this.pool?.destroy();
    // Last: jobs still held after the deadline were failed by pg-boss, and must not be failed
    // again by another pod's sweep in between.
    await this.liveness?.end().catch(() => undefined);
    this.started = false;
  }

  /**
   * A new login: the liveness session moves to it, the new session first, so this process never
   * looks dead to the others (they would retry its jobs) and the old login is left unused.
   */
  private async moveLiveness(): Promise<void> {
    const old = this.liveness;
    if (!old || this.stopping) return;
    await this.connectLiveness();
    await old.end().catch(() => undefined);
  }

  private async connectLiveness(): Promise<void> {
    const client = new Client({
      connectionString: withLogin(
        this.options.connectionString,
        this.options.credentials?.current(),
      ),
      application_name: `${WORKER_SESSION_PREFIX}${this.workerId}`,
      keepAlive: true,
    });
    // A dropped session makes this process look dead to others (its jobs get retried, which is
    // safe); the next sweep reconnects it.
    client.on('error', () => undefined);
    await client.connect();
    // The server notices a vanished host (no FIN, e.g. a lost node) within about 30 s, not hours.
    await client.query(
      'SET tcp_keepalives_idle = 10; SET tcp_keepalives_interval = 5; SET tcp_keepalives_count = 3',
    );
    this.liveness = client;
  }

  private scheduleOrphanSweep(): void {
    this.sweepTimer = setTimeout(() => {
      void (async () => {
        const alive = await this.liveness
          ?.query('SELECT 1')
          .then(() => true)
          .catch(() => false);
        if (!alive) {
          await this.liveness?.end().catch(() => undefined);
          await this.connectLiveness();
        }
        await this.recoverOrphanedJobs();
      })()
        .catch((err) => (this.options.onError ?? defaultOnError)(err))
        .finally(() => {
          if (!this.stopping) this.scheduleOrphanSweep();
        });
    }, this.options.orphanSweepIntervalMs ?? 5_000);
    this.sweepTimer.unref();
  }

  private async runAttempt(handlers: IngestHandlers, job: PgBoss.JobWithMetadata<IngestJob>) {
    const { metrics } = this.options;
    const db = this.boss.getDb();
    await db.executeSql(
      `INSERT INTO ${LEASES} (job_id, worker) VALUES ($1, $2)
       ON CONFLICT (job_id) DO UPDATE SET worker = excluded.worker, leased_at = now()`,
      [job.id, this.workerId],
    );
    try {
      await handlers.process(job.data, { retryCount: job.retryCount, retryLimit: job.retryLimit });
      metrics.ingestJobs.inc({ outcome: 'completed' });
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      const willRetry = job.retryCount < job.retryLimit;
      // Exhausted jobs are counted once, by the dead-letter worker, which also sees expiries.
      if (willRetry) metrics.ingestJobs.inc({ outcome: 'retried' });
      await handlers
        .failed(job.data, error, willRetry)
        .catch(this.options.onError ?? defaultOnError);
      throw error;
    } finally {
      await db
        .executeSql(`DELETE FROM ${LEASES} WHERE job_id = $1 AND worker = $2`, [
          job.id,
          this.workerId,
        ])
        .catch(this.options.onError ?? defaultOnError);
    }
  }

  private wakeWorkers(): void {
    if (this.stopping) return;
    for (const id of this.workerIds) this.boss.notifyWorker(id);
  }

  private scheduleDepthRefresh(): void {
    this.depthTimer = setTimeout(() => {
      void this.refreshDepth()
        .catch((err) => (this.options.onError ?? defaultOnError)(err))
        .finally(() => {
          if (!this.stopping) this.scheduleDepthRefresh();
        });
    }, this.options.depthRefreshIntervalMs ?? 5_000);
    this.depthTimer.unref();
  }

  private async refreshDepth(): Promise<void> {
    const depth = await this.depth();
    for (const state of ['queued', 'active', 'dead'] as const) {
      this.options.metrics.queueDepth.set({ state }, depth[state]);
    }
  }
}

/** Runs pg-boss's SQL on a connection of a knex pool (one statement batch per acquire). */
function poolExecutor(pool: Knex): PgBoss.Db {
  return {
    async executeSql(text, values) {
      const connection = (await pool.client.acquireConnection()) as {
        query(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>;
      };
      try {
        return (await connection.query(text, values)) as { rows: never[] };
      } finally {
        await pool.client.releaseConnection(connection);
      }
    },
  };
}

/** Runs pg-boss's SQL on the connection of a knex transaction. */
function transactionExecutor(trx: Knex.Transaction): PgBoss.Db {
  return {
    async executeSql(text, values) {
      // A transaction's client hands out the transaction's own connection (a node-postgres Client);
      // pg-boss's SQL uses $n placeholders, which knex.raw would not accept.
      const connection = (await trx.client.acquireConnection()) as {
        query(text: string, values: unknown[]): Promise<{ rows: unknown[] }>;
      };
      return connection.query(text, values) as Promise<{ rows: never[] }>;
    },
  };
}

function errorMessageOf(output: unknown): string | null {
  if (output && typeof output === 'object') {
    const o = output as { message?: unknown; value?: { message?: unknown } };
    if (typeof o.message === 'string') return o.message;
    if (typeof o.value?.message === 'string') return o.value.message;
  }
  return null;
}

function defaultOnError(error: unknown): void {
  console.error('ingest queue:', error instanceof Error ? error.message : error);
}
