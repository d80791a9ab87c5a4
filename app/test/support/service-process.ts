import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { tsNodeEnv } from '../../../test-support/ts-node-env';
import { ensureRunKey } from './test-credential';
import { eventually, requireEnv } from './test-service';
import { freePort } from '../../../test-support/free-port';

export { freePort };

export const repoRoot = path.resolve(__dirname, '../../..');

export interface ServiceProcess {
  readonly child: ChildProcess;
  readonly url: string;
  /** A login with write access to the database it runs on (none: the embedded default). */
  readonly databaseUrl?: string;
  readonly output: () => string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * The service as its own OS process (main.ts, from source: the compiled build and the image's
 * install are replayed in app/test/build), for what an in-process test cannot show: exit codes,
 * signals, SIGKILL in the middle of a job, the embedded default.
 */
export function spawnService(env: Record<string, string>, port?: number): ServiceProcess {
  const child = spawn(
    process.execPath,
    ['-r', 'ts-node/register/transpile-only', 'app/src/main.ts'],
    {
      cwd: repoRoot,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/root',
        TS_NODE_TRANSPILE_ONLY: '1',
        ...tsNodeEnv(),
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout?.on('data', (d) => (output += d));
  child.stderr?.on('data', (d) => (output += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    url: `http://127.0.0.1:${port ?? env.PORT}`,
    // The schema owner's login where the service has one: its own may come from a credentials file.
    databaseUrl: env.MIGRATION_DATABASE_URL ?? env.DATABASE_URL,
    output: () => output,
    exited,
  };
}

export async function waitReady(service: ServiceProcess, timeoutMs = 30_000): Promise<void> {
  let exited = false;
  void service.exited.then(() => (exited = true));
  await eventually(
    async () => {
      if (exited) throw new Error(`service exited during start-up:\n${service.output()}`);
      const res = await fetch(new URL('/readyz', service.url));
      return res.status === 200;
    },
    { timeoutMs, intervalMs: 100, what: 'service ready' },
  ).catch((err) => {
    throw new Error(
      `${(err as Error).message}\n--- service output ---\n${service.output().slice(-4000)}`,
    );
  });
  // Its schema is migrated now: the run's super admin key goes in (apiClient sends it).
  if (service.databaseUrl) await ensureRunKey(service.databaseUrl);
}

/** Environment for a service process on the run's real Postgres primary + replica and Redis. */
export function realServicesEnv(
  port: number,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    DATABASE_URL: requireEnv('DATABASE_URL'),
    DATABASE_REPLICA_URLS: requireEnv('DATABASE_REPLICA_URLS'),
    MIGRATION_DATABASE_URL: requireEnv('MIGRATION_DATABASE_URL'),
    REDIS_URL: requireEnv('REDIS_URL'),
    HOST: '127.0.0.1',
    PORT: String(port),
    LOG_LEVEL: 'warn',
    SEED_DEMO_CORPUS: 'false',
    ...extra,
  };
}
