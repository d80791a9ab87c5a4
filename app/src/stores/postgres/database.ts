import knex, { type Knex } from 'knex';
import type { Metrics } from '../../observability/metrics';
import { withLogin, type DatabaseCredentials } from './database-credentials';

// Postgres access split by intent: writes (and anything that must see its own writes) use the
// primary pool; `read()` uses a replica that is reachable and within the lag bound, otherwise the
// primary. Replica health and lag are measured by a background loop so a request never pays for a
// health check, and the routing decision is a field lookup.

export interface DatabaseOptions {
  readonly primaryUrl: string;
  readonly replicaUrls?: readonly string[];
  readonly poolMax: number;
  readonly statementTimeoutMs: number;
  readonly lockTimeoutMs: number;
  readonly replicaMaxLagSeconds: number;
  readonly replicaCheckIntervalMs: number;
  /** Bounds connecting and waiting for a pooled connection, so a dead host fails fast. */
  readonly connectTimeoutMs?: number;
  readonly applicationName?: string;
  /**
   * The login every pool uses instead of the URLs' own, when it comes from a file that changes
   * (Vault's dynamic users): new connections take the current login, older ones are retired.
   */
  readonly credentials?: DatabaseCredentials;
  readonly metrics: Metrics;
  /**
   * A query on the primary failed because the server is unreachable or the schema is gone: how the
   * dependency-state owner hears of it between two probes. Replica failures need no callback: they
   * change the routing state, which the owner reads.
   */
  readonly onPrimaryFailure?: (err: Error) => void;
}

export type ReadTarget = 'replica' | 'primary';

export interface ReplicaHealth {
  /** host:port — never the credentials. */
  readonly name: string;
  readonly state: 'up' | 'down' | 'lagging' | 'unknown';
  readonly lagSeconds: number | null;
  readonly error?: string;
}

export interface DatabaseHealth {
  readonly primary: { readonly up: boolean; readonly error?: string };
  readonly replicas: readonly ReplicaHealth[];
  /** Where `read()` sends the next read. */
  readonly readTarget: ReadTarget;
  readonly checkedAt: Date | null;
}

interface Replica {
  readonly name: string;
  readonly pool: Knex;
  state: ReplicaHealth['state'];
  lagSeconds: number | null;
  error?: string;
}

// On a standby with nothing left to replay the lag is 0 however old the last transaction is;
// otherwise it is the age of the last replayed transaction (conservative while replay catches up).
const replicaLagSql = `
  SELECT pg_is_in_recovery() AS in_recovery,
         CASE WHEN NOT pg_is_in_recovery() THEN 0
              WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
              ELSE COALESCE(extract(epoch FROM now() - pg_last_xact_replay_timestamp()), 0)
         END AS lag_seconds`;

/**
 * Network and server-shutdown failures (the query never reached a working server), and a schema
 * that is gone (dropped by `npm run migrate -- down --all` under a running service): either way
 * the database cannot serve this service and the caller should retry later, not see a 500.
 */
const unreachableCodes = new Set([
  '42P01', // undefined_table
  '3F000', // invalid_schema_name
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EPIPE',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '08000',
  '08001',
  '08003',
  '08006',
]);

export function isUnreachableError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && unreachableCodes.has(code)) return true;
  if (err.name === 'KnexTimeoutError') return true;
  return /Connection terminated|connection timeout|timeout exceeded when trying to connect/i.test(
    err.message,
  );
}

export function hostPort(url: string): string {
  const u = new URL(url);
  return `${u.hostname}:${u.port || '5432'}`;
}

export class Database {
  /** The write pool. Use it for writes and for reads that must see the caller's own writes. */
  readonly primary: Knex;
  private readonly replicas: Replica[];
  private readonly metrics: Metrics;
  private primaryUp = false;
  private primaryError: string | undefined;
  private checkedAt: Date | null = null;
  private nextReplica = 0;
  private timer: NodeJS.Timeout | undefined;
  private checking: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly options: DatabaseOptions) {
    this.metrics = options.metrics;
    this.primary = createPool(options.primaryUrl, options, 'primary');
    const onPrimaryFailure = options.onPrimaryFailure;
    if (onPrimaryFailure) {
      this.primary.on('query-error', (err: Error) => {
        if (isUnreachableError(err)) onPrimaryFailure(err);
      });
    }
    this.replicas = (options.replicaUrls ?? []).map((url) => ({
      name: hostPort(url),
      pool: createPool(url, options, 'replica'),
      state: 'unknown',
      lagSeconds: null,
    }));
  }

  /** Runs the first health check (so the first reads route correctly) and starts the loop. */
  async start(): Promise<void> {
    await this.checkNow();
    this.schedule();
  }

  /** Runs `fn` on a healthy replica, or on the primary when none is usable right now. */
  async read<T>(fn: (db: Knex) => Promise<T>): Promise<T> {
    const replica = this.pickReplica();
    if (replica) {
      try {
        const result = await fn(replica.pool);
        this.metrics.dbReads.inc({ target: 'replica' });
        return result;
      } catch (err) {
        if (!isUnreachableError(err)) throw err;
        // Don't wait for the next check to stop sending reads to a replica that just failed.
        this.markReplicaDown(replica, err);
      }
    }
    const result = await fn(this.primary);
    this.metrics.dbReads.inc({ target: 'primary' });
    return result;
  }

  /**
   * A lookup by key: read like `read()`, but a miss on a replica is confirmed on the primary.
   * Replication is asynchronous, so without this a client that just created a collection or
   * document could follow the returned Location and get a 404 from a replica a few ms behind.
   */
  async lookup<T>(fn: (db: Knex) => Promise<T | undefined>): Promise<T | undefined> {
    const replica = this.pickReplica();
    const found = await this.read(fn);
    if (found !== undefined || !replica) return found;
    const confirmed = await fn(this.primary);
    this.metrics.dbReads.inc({ target: 'primary' });
    return confirmed;
  }

  /** A transaction on the primary. */
  transaction<T>(fn: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
    return this.primary.transaction(fn);
  }

  health(): DatabaseHealth {
    return {
      primary: { up: this.primaryUp, ...(this.primaryError ? { error: this.primaryError } : {}) },
      replicas: this.replicas.map((r) => ({
        name: r.name,
        state: r.state,
        lagSeconds: r.lagSeconds,
        ...(r.error ? { error: r.error } : {}),
      })),
      readTarget: this.usableReplicas().length > 0 ? 'replica' : 'primary',
      checkedAt: this.checkedAt,
    };
  }

  /** Measures primary liveness and every replica's reachability and lag once. */
  checkNow(): Promise<void> {
    // Concurrent callers share one in-flight check instead of stacking probes on a slow server.
    this.checking ??= this.runChecks().finally(() => {
      this.checking = undefined;
    });
    return this.checking;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    await this.checking?.catch(() => undefined);
    await Promise.all([this.primary.destroy(), ...this.replicas.map((r) => r.pool.destroy())]);
  }

  private schedule(): void {
    if (this.closed) return;
    this.timer = setTimeout(() => {
      void this.checkNow().finally(() => this.schedule());
    }, this.options.replicaCheckIntervalMs);
    this.timer.unref();
  }

  private async runChecks(): Promise<void> {
    await Promise.all([this.checkPrimary(), ...this.replicas.map((r) => this.checkReplica(r))]);
    this.checkedAt = new Date();
  }

  private async checkPrimary(): Promise<void> {
    try {
      await this.primary.raw('SELECT 1');
      this.primaryUp = true;
      this.primaryError = undefined;
    } catch (err) {
      this.primaryUp = false;
      this.primaryError = describe(err);
    }
  }

  private async checkReplica(replica: Replica): Promise<void> {
    try {
      const { rows } = await replica.pool.raw<{ rows: { lag_seconds: string | number }[] }>(
        replicaLagSql,
      );
      const lag = Number(rows[0]?.lag_seconds ?? 0);
      replica.lagSeconds = lag;
      replica.state = lag > this.options.replicaMaxLagSeconds ? 'lagging' : 'up';
      replica.error = undefined;
      this.metrics.replicaLag.set({ replica: replica.name }, lag);
    } catch (err) {
      this.markReplicaDown(replica, err);
    }
  }

  private markReplicaDown(replica: Replica, err: unknown): void {
    replica.state = 'down';
    replica.error = describe(err);
  }

  private usableReplicas(): Replica[] {
    return this.replicas.filter((r) => r.state === 'up');
  }

  private pickReplica(): Replica | undefined {
    const usable = this.usableReplicas();
    if (usable.length === 0) return undefined;
    this.nextReplica = (this.nextReplica + 1) % usable.length;
    return usable[this.nextReplica];
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}

export interface PoolOptions {
  readonly connectTimeoutMs?: number;
  readonly poolMax: number;
  /** Sent as startup parameters on every connection; omitted: the server's defaults. */
  readonly statementTimeoutMs?: number;
  readonly lockTimeoutMs?: number;
  readonly applicationName: string;
  readonly credentials?: DatabaseCredentials;
}

/**
 * A knex pool on `url`. With `credentials`, each new connection logs in with the current login
 * and a pooled connection of an older login is discarded when next acquired (tarn validates on
 * acquire): in-flight queries finish on their connection, no new one starts on it, so the old
 * login can be revoked once its sessions are idle without failing a request.
 */
export function createKnexPool(url: string, options: PoolOptions): Knex {
  const connectTimeoutMs = options.connectTimeoutMs ?? 3_000;
  // node-postgres sends the timeouts as startup parameters, so every pooled connection gets them
  // without an extra round trip (knex's types lack lock_timeout, which node-postgres supports).
  const settings = (
    connectionString: string,
  ): Knex.PgConnectionConfig & { lock_timeout?: number } => ({
    connectionString,
    ...(options.statementTimeoutMs !== undefined
      ? { statement_timeout: options.statementTimeoutMs }
      : {}),
    ...(options.lockTimeoutMs !== undefined ? { lock_timeout: options.lockTimeoutMs } : {}),
    connectionTimeoutMillis: connectTimeoutMs,
    application_name: options.applicationName,
  });
  const { credentials } = options;
  const connection = credentials
    ? () => {
        const version = credentials.version;
        return {
          ...settings(withLogin(url, credentials.current())),
          expirationChecker: () => credentials.version !== version,
        };
      }
    : settings(url);
  return knex({
    client: 'pg',
    connection,
    pool: {
      min: 0,
      max: options.poolMax,
      idleTimeoutMillis: 30_000,
      ...(credentials
        ? {
            validate: (conn: { user?: string; password?: unknown }) => {
              const login = credentials.current();
              return conn.user === login.user && conn.password === login.password;
            },
          }
        : {}),
    },
    acquireConnectionTimeout: connectTimeoutMs,
    // Connection failures reach the caller as rejections (and the health snapshot); knex's own
    // console line for each would only duplicate them outside the structured log.
    log: {
      warn: (message: string) => {
        if (!message.startsWith('Acquire connection error')) console.warn(message);
      },
      error: () => undefined,
    },
  });
}

function createPool(url: string, options: DatabaseOptions, role: 'primary' | 'replica'): Knex {
  return createKnexPool(url, {
    connectTimeoutMs: options.connectTimeoutMs,
    poolMax: options.poolMax,
    statementTimeoutMs: options.statementTimeoutMs,
    lockTimeoutMs: options.lockTimeoutMs,
    applicationName: `${options.applicationName ?? 'rag-api'}:${role}`,
    credentials: options.credentials,
  });
}
