import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { roleBootstrapStatements } from '../../catalog/database-roles';

// The real backing services for `npm run bench`: the ones in the environment (DATABASE_URL,
// DATABASE_REPLICA_URLS, REDIS_URL, as scripts/test-services.sh prints them) or, when unset, a
// private set started with that script and stopped afterwards. The bench always works in a
// throwaway database so its 10,000 chunks never mix with anyone's data.

const run = promisify(execFile);
const repoRoot = path.resolve(__dirname, '../..');

export interface BackingServices {
  /** A superuser's (it creates databases). */
  readonly primaryUrl: string;
  readonly replicaUrl: string;
  /**
   * The service's DML-only login and the migrations' login (scripts/test-services.sh), when the
   * services have them: a throwaway database gets the same roles.
   */
  readonly logins?: { service: string; serviceReplica: string; migration: string };
  readonly redisUrl: string;
  /** Whether this process started them (and so stops them in `release`). */
  readonly started: boolean;
  release(): Promise<void>;
}

export async function acquireBackingServices(): Promise<BackingServices> {
  const { DATABASE_URL, DATABASE_REPLICA_URLS, REDIS_URL } = process.env;
  if (DATABASE_URL && DATABASE_REPLICA_URLS && REDIS_URL) {
    return {
      primaryUrl: process.env.TEST_DATABASE_ADMIN_URL ?? DATABASE_URL,
      replicaUrl:
        process.env.TEST_DATABASE_REPLICA_ADMIN_URL ?? DATABASE_REPLICA_URLS.split(',')[0].trim(),
      logins: loginsOf(process.env),
      redisUrl: REDIS_URL,
      started: false,
      release: async () => undefined,
    };
  }
  const servicesDir = `/tmp/rag-bench-services-${process.pid}`;
  const env = { ...process.env, TEST_SERVICES_DIR: servicesDir };
  const script = path.join(repoRoot, 'scripts/test-services.sh');
  const { stdout } = await run('bash', [script, 'up'], { env, cwd: repoRoot });
  const vars = Object.fromEntries(
    stdout
      .split('\n')
      .filter((line) => line.includes('='))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
  return {
    primaryUrl: vars.TEST_DATABASE_ADMIN_URL ?? vars.DATABASE_URL,
    replicaUrl: vars.TEST_DATABASE_REPLICA_ADMIN_URL ?? vars.DATABASE_REPLICA_URLS.split(',')[0],
    logins: loginsOf(vars),
    redisUrl: vars.REDIS_URL,
    started: true,
    release: async () => {
      await run('bash', [script, 'down'], { env, cwd: repoRoot });
    },
  };
}

function loginsOf(env: Record<string, string | undefined>): BackingServices['logins'] {
  const { DATABASE_URL, DATABASE_REPLICA_URLS, MIGRATION_DATABASE_URL } = env;
  if (!DATABASE_URL || !DATABASE_REPLICA_URLS || !MIGRATION_DATABASE_URL) return undefined;
  return {
    service: DATABASE_URL,
    serviceReplica: DATABASE_REPLICA_URLS.split(',')[0].trim(),
    migration: MIGRATION_DATABASE_URL,
  };
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

export interface ThrowawayDatabase {
  /** A superuser's. */
  readonly primaryUrl: string;
  readonly replicaUrl: string;
  /**
   * The service's settings for this database: its DML-only login and the migrations' (the
   * superuser's where the services have no such logins).
   */
  readonly serviceEnv: Record<string, string>;
  /** Resolves once the replica has replayed everything the primary had written when called. */
  replicaCaughtUp(timeoutMs?: number): Promise<void>;
  drop(): Promise<void>;
}

/** A fresh database on the primary, once the streaming replica has replayed its creation. */
export async function createThrowawayDatabase(
  services: BackingServices,
): Promise<ThrowawayDatabase> {
  const name = `bench_${randomBytes(4).toString('hex')}`;
  const admin = new Client(withDatabase(services.primaryUrl, 'postgres'));
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const logins = services.logins;
  if (logins) {
    const bootstrap = new Client(withDatabase(services.primaryUrl, name));
    await bootstrap.connect();
    try {
      for (const statement of roleBootstrapStatements(name)) await bootstrap.query(statement);
    } finally {
      await bootstrap.end();
    }
  }
  const replicaUrl = withDatabase(services.replicaUrl, name);
  for (let attempt = 0; ; attempt++) {
    const probe = new Client(replicaUrl);
    try {
      await probe.connect();
      await probe.end();
      break;
    } catch (err) {
      await probe.end().catch(() => undefined);
      if (attempt > 100) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    primaryUrl: withDatabase(services.primaryUrl, name),
    replicaUrl,
    serviceEnv: logins
      ? {
          DATABASE_URL: withDatabase(logins.service, name),
          DATABASE_REPLICA_URLS: withDatabase(logins.serviceReplica, name),
          MIGRATION_DATABASE_URL: withDatabase(logins.migration, name),
        }
      : {
          DATABASE_URL: withDatabase(services.primaryUrl, name),
          DATABASE_REPLICA_URLS: replicaUrl,
        },
    async replicaCaughtUp(timeoutMs = 60_000) {
      const { rows } = await admin.query<{ lsn: string }>('SELECT pg_current_wal_lsn() AS lsn');
      const replica = new Client(withDatabase(services.replicaUrl, 'postgres'));
      await replica.connect();
      try {
        for (const deadline = Date.now() + timeoutMs; ;) {
          const replayed = await replica.query<{ done: boolean }>(
            'SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS done',
            [rows[0].lsn],
          );
          if (replayed.rows[0].done) return;
          if (Date.now() > deadline) {
            throw new Error(`the replica did not replay up to ${rows[0].lsn} in ${timeoutMs} ms`);
          }
          await new Promise((r) => setTimeout(r, 50));
        }
      } finally {
        await replica.end();
      }
    },
    drop: async () => {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    },
  };
}
