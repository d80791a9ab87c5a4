import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { repoRoot } from './service-process';

const run = promisify(execFile);

/**
 * A private Postgres primary + streaming replica and Redis from scripts/test-services.sh, for
 * tests that stop, pause or break them: the run's shared set must stay healthy for other suites.
 */
export interface PrivateServices {
  readonly env: Readonly<Record<string, string>>;
  /** Runs one statement as superuser on the primary or the replica (database `rag`). */
  sql(target: 'primary' | 'replica', statement: string): Promise<unknown[]>;
  /** Stops one Postgres server at once (`pg_ctl stop -m immediate`, like a crash). */
  stopPostgres(target: 'primary' | 'replica'): Promise<void>;
  down(): Promise<void>;
}

export async function startPrivateServices(): Promise<PrivateServices> {
  const dir = await mkdtemp(path.join(tmpdir(), 'rag-private-services-'));
  const script = path.join(repoRoot, 'scripts/test-services.sh');
  const env = { ...process.env, TEST_SERVICES_DIR: dir };
  const { stdout } = await run('bash', [script, 'up'], { env, cwd: repoRoot });
  const vars: Record<string, string> = {};
  for (const line of stdout.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) vars[line.slice(0, eq)] = line.slice(eq + 1);
  }
  const urlOf = (target: 'primary' | 'replica') =>
    target === 'primary' ? vars.TEST_DATABASE_ADMIN_URL : vars.TEST_DATABASE_REPLICA_ADMIN_URL;
  return {
    env: vars,
    async sql(target, statement) {
      const c = new Client({ connectionString: urlOf(target), connectionTimeoutMillis: 3_000 });
      await c.connect();
      try {
        return (await c.query(statement)).rows;
      } finally {
        await c.end();
      }
    },
    async stopPostgres(target) {
      const dataDir = target === 'primary' ? vars.TEST_PG_PRIMARY_DIR : vars.TEST_PG_REPLICA_DIR;
      await run('runuser', [
        '-u',
        'postgres',
        '--',
        path.join(vars.TEST_PG_BIN, 'pg_ctl'),
        '-D',
        dataDir,
        '-m',
        'immediate',
        'stop',
      ]);
    },
    async down() {
      await run('bash', [script, 'down'], { env, cwd: repoRoot });
      await rm(dir, { recursive: true, force: true });
    },
  };
}
