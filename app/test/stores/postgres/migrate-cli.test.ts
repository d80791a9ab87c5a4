import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import knex, { type Knex } from 'knex';
import { repoRoot } from '../../support/service-process';
import { createTestDatabase, type TestDatabase } from './test-database';

const run = promisify(execFile);

// `npm run migrate` is what operators and the Kubernetes migration Job run: exercise the real
// entry point, not only the functions behind it.
function migrate(databaseUrl: string, ...args: string[]) {
  return run(
    process.execPath,
    ['-r', 'ts-node/register/transpile-only', 'app/src/stores/postgres/migrate-cli.ts', ...args],
    { cwd: repoRoot, env: { PATH: process.env.PATH, DATABASE_URL: databaseUrl } },
  );
}

describe('npm run migrate', function () {
  this.timeout(60_000);
  let testDb: TestDatabase;
  let db: Knex;
  const tables = async () =>
    (
      await db.raw(
        "SELECT count(*)::int AS n FROM information_schema.tables WHERE table_name IN ('collections', 'documents', 'chunks')",
      )
    ).rows[0].n;

  before(async () => {
    testDb = await createTestDatabase('migrate_cli');
    db = knex({ client: 'pg', connection: testDb.primaryUrl, pool: { min: 0, max: 1 } });
  });
  after(async () => {
    await db?.destroy();
    await testDb?.drop();
  });

  it('applies, reverts everything, and applies again', async () => {
    const up = await migrate(testDb.primaryUrl);
    assert.match(up.stdout, /applied .*create_catalog_tables/);
    assert.equal(await tables(), 3);
    assert.match((await migrate(testDb.primaryUrl, 'up')).stdout, /nothing to do/);
    const down = await migrate(testDb.primaryUrl, 'down', '--all');
    assert.match(down.stdout, /reverted/);
    assert.equal(await tables(), 0);
    await migrate(testDb.primaryUrl, 'latest');
    assert.equal(await tables(), 3);
  });

  it('rejects an unknown command with the usage and exit code 1', async () => {
    await assert.rejects(
      migrate(testDb.primaryUrl, 'sideways'),
      (err: { code: number; stderr: string }) => {
        assert.equal(err.code, 1);
        assert.match(err.stderr, /usage: npm run migrate/);
        return true;
      },
    );
  });
});
