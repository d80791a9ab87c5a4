import { eventually } from '../../../test-support/eventually';
import { run, runOk } from './processes';

// The local stack's datastores come from scripts/test-services.sh (Postgres primary + streaming
// replica, Redis on loopback): the suite's own set when its env is present, otherwise a private
// set this drill starts and stops. The faults the drills inject are done to these real servers.

export interface LocalServices {
  readonly databaseUrl: string;
  readonly replicaUrl: string;
  /** The migrations' login when the service's has DML only (scripts/test-services.sh). */
  readonly migrationUrl?: string;
  readonly redisUrl: string;
  readonly stateDir: string;
  readonly pgBin: string;
  readonly primaryDir: string;
  readonly replicaDir: string;
  readonly pgPort: number;
  readonly replicaPort: number;
  readonly redisPort: number;
}

function parseEnv(text: string): Record<string, string> {
  return Object.fromEntries(
    text
      .split('\n')
      .map((l) => /^([A-Z_]+)=(.*)$/.exec(l.trim()))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => [m[1], m[2]]),
  );
}

function fromEnv(env: Record<string, string | undefined>): LocalServices | undefined {
  const need = [
    'DATABASE_URL',
    'DATABASE_REPLICA_URLS',
    'REDIS_URL',
    'TEST_SERVICES_DIR',
    'TEST_PG_BIN',
    'TEST_PG_PRIMARY_DIR',
    'TEST_PG_REPLICA_DIR',
    'TEST_PG_PORT',
    'TEST_PG_REPLICA_PORT',
    'TEST_REDIS_PORT',
  ];
  if (need.some((n) => !env[n])) return undefined;
  return {
    databaseUrl: env.DATABASE_URL!,
    replicaUrl: env.DATABASE_REPLICA_URLS!.split(',')[0],
    migrationUrl: env.MIGRATION_DATABASE_URL,
    redisUrl: env.REDIS_URL!,
    stateDir: env.TEST_SERVICES_DIR!,
    pgBin: env.TEST_PG_BIN!,
    primaryDir: env.TEST_PG_PRIMARY_DIR!,
    replicaDir: env.TEST_PG_REPLICA_DIR!,
    pgPort: Number(env.TEST_PG_PORT),
    replicaPort: Number(env.TEST_PG_REPLICA_PORT),
    redisPort: Number(env.TEST_REDIS_PORT),
  };
}

/** The run's services when the suite started them; else a private set, stopped by `release`. */
export async function acquireLocalServices(): Promise<{
  services: LocalServices;
  release(): Promise<void>;
}> {
  const existing = fromEnv(process.env);
  if (existing) return { services: existing, release: async () => {} };
  const dir = `/tmp/rag-platform-drills-${process.pid}`;
  const env = { ...process.env, TEST_SERVICES_DIR: dir };
  const out = await runOk('bash', ['scripts/test-services.sh', 'up'], { env, timeoutMs: 300_000 });
  const services = fromEnv(parseEnv(out));
  if (!services) throw new Error(`scripts/test-services.sh up printed no usable env:\n${out}`);
  return {
    services,
    release: async () => {
      await run('bash', ['scripts/test-services.sh', 'down'], { env });
    },
  };
}

/** Postgres refuses to run as root: as root, its tools run as the `postgres` user. */
function asPostgres(tool: string, args: string[]): [string, string[]] {
  return process.getuid?.() === 0
    ? ['runuser', ['-u', 'postgres', '--', tool, ...args]]
    : [tool, args];
}

export async function pgCtl(services: LocalServices, dir: string, args: string[]): Promise<void> {
  const [cmd, argv] = asPostgres(`${services.pgBin}/pg_ctl`, ['-D', dir, ...args]);
  await runOk(cmd, argv);
}

/** One SQL statement through psql (the tool on-call uses), returning its unaligned output. */
export async function psql(port: number, sql: string, database = 'rag'): Promise<string> {
  const out = await runOk('psql', [
    '-h',
    '127.0.0.1',
    '-p',
    String(port),
    '-U',
    'postgres',
    '-d',
    database,
    '-XAtqc',
    sql,
  ]);
  return out.trim();
}

export async function pgReady(services: LocalServices, port: number): Promise<boolean> {
  return (
    (await run(`${services.pgBin}/pg_isready`, ['-q', '-h', '127.0.0.1', '-p', String(port)]))
      .code === 0
  );
}

const logOf = (services: LocalServices, name: string) => `${services.stateDir}/logs/${name}.log`;

export const datastores = {
  async stopPrimary(s: LocalServices) {
    await pgCtl(s, s.primaryDir, ['-m', 'fast', '-w', 'stop']);
  },
  async startPrimary(s: LocalServices) {
    await pgCtl(s, s.primaryDir, ['-l', logOf(s, 'pg-primary'), '-w', 'start']);
  },
  async stopReplica(s: LocalServices) {
    await pgCtl(s, s.replicaDir, ['-m', 'fast', '-w', 'stop']);
  },
  async startReplica(s: LocalServices) {
    await pgCtl(s, s.replicaDir, ['-l', logOf(s, 'pg-replica'), '-w', 'start']);
  },
  async stopRedis(s: LocalServices) {
    await run('redis-cli', ['-p', String(s.redisPort), 'shutdown', 'nosave']);
    await eventually(
      async () => (await run('redis-cli', ['-p', String(s.redisPort), 'ping'])).code !== 0,
      { timeoutMs: 10_000, intervalMs: 100, what: 'redis stopped' },
    );
  },
  /** The same server scripts/test-services.sh starts, on the same port. */
  async startRedis(s: LocalServices) {
    await runOk('redis-server', [
      '--bind',
      '127.0.0.1',
      '--port',
      String(s.redisPort),
      '--save',
      '',
      '--appendonly',
      'no',
      '--daemonize',
      'yes',
      '--pidfile',
      `${s.stateDir}/redis.pid`,
      '--logfile',
      `${s.stateDir}/redis.log`,
      '--dir',
      s.stateDir,
    ]);
    await eventually(
      async () =>
        (await run('redis-cli', ['-p', String(s.redisPort), 'ping'])).stdout.includes('PONG'),
      { timeoutMs: 10_000, intervalMs: 100, what: 'redis back' },
    );
  },
};
