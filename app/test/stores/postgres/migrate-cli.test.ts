import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import knex, { type Knex } from 'knex';
import type { RunningService } from '../../../src/service';
import { apiClient } from '../../support/http-client';
import { repoRoot } from '../../support/service-process';
import { eventually, startTestService, uniqueName } from '../../support/test-service';
import { createTestDatabase, serviceDatabaseEnv, type TestDatabase } from './test-database';
import { ensureRunKey } from '../../support/test-credential';
import { tsNodeEnv } from '../../../../test-support/ts-node-env';

const run = promisify(execFile);

// `npm run migrate` is what operators and the Kubernetes migration Job run: exercise the real
// entry point, not only the functions behind it.
function migrate(databaseUrl: string, ...args: string[]) {
  return migrateWithEnv({ DATABASE_URL: databaseUrl }, ...args);
}

function migrateWithEnv(env: Record<string, string>, ...args: string[]) {
  return run(
    process.execPath,
    ['-r', 'ts-node/register/transpile-only', 'app/src/stores/postgres/migrate-cli.ts', ...args],
    { cwd: repoRoot, env: { PATH: process.env.PATH, ...tsNodeEnv(), ...env } },
  );
}

/** Expects the CLI to refuse (exit 1) with a message matching `pattern`. */
async function refused(command: Promise<unknown>, pattern: RegExp) {
  await assert.rejects(command, (err: { code: number; stderr: string }) => {
    assert.equal(err.code, 1);
    assert.match(err.stderr, pattern);
    return true;
  });
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
    const down = await migrate(testDb.primaryUrl, 'down', '--all', `--confirm=${testDb.name}`);
    assert.match(down.stdout, /reverted/);
    assert.equal(await tables(), 0);
    await migrate(testDb.primaryUrl, 'latest');
    assert.equal(await tables(), 3);
  });

  it('refuses to revert without --confirm naming the database, and leaves every table', async () => {
    await migrate(testDb.primaryUrl);
    await refused(
      migrate(testDb.primaryUrl, 'down', '--all'),
      new RegExp(`--confirm=${testDb.name}`),
    );
    await refused(migrate(testDb.primaryUrl, 'rollback'), /--confirm=/);
    await refused(migrate(testDb.primaryUrl, 'down', '--all', '--confirm=postgres'), /--confirm=/);
    assert.equal(await tables(), 3);
  });

  it('refuses to revert with NODE_ENV=production, even confirmed', async () => {
    await migrate(testDb.primaryUrl);
    await refused(
      migrateWithEnv(
        { DATABASE_URL: testDb.primaryUrl, NODE_ENV: 'production' },
        'down',
        '--all',
        `--confirm=${testDb.name}`,
      ),
      /NODE_ENV=production/,
    );
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

describe('a running service whose schema is dropped under it', function () {
  this.timeout(120_000);
  let testDb: TestDatabase;
  let service: RunningService | undefined;

  before(async () => {
    testDb = await createTestDatabase('schema_drop');
  });
  after(async () => {
    await service?.close();
    await testDb?.drop();
  });

  it('answers 503 problems and leaves rotation, then heals once migrated again', async () => {
    service = await startTestService({
      ...serviceDatabaseEnv(testDb),
      DEPENDENCY_CHECK_INTERVAL_MS: '200',
    });
    const api = apiClient(service.url);
    const collection = uniqueName('schema');
    assert.equal((await api.post('/v1/collections', { id: collection })).status, 201);
    assert.equal((await api.get('/readyz')).status, 200);

    await migrate(testDb.migrationUrl, 'down', '--all', `--confirm=${testDb.name}`);
    const ingest = await api.post(`/v1/collections/${collection}/documents`, { content: 'x' });
    assert.equal(ingest.status, 503, ingest.text);
    assert.match(ingest.headers.get('content-type') ?? '', /^application\/problem\+json/);
    const create = await api.post('/v1/collections', { id: uniqueName('schema') });
    assert.equal(create.status, 503, create.text);
    await eventually(async () => (await api.get('/readyz')).status === 503, {
      what: 'readiness down once the schema is gone',
    });
    const ready = await api.get('/readyz');
    assert.match(ready.body.reasons.join(' '), /schema missing/);

    await migrate(testDb.migrationUrl, 'up');
    // The credentials went with the tables: the run's key goes back in.
    await ensureRunKey(testDb.primaryUrl, { again: true });
    await eventually(async () => (await api.get('/readyz')).status === 200, {
      what: 'ready again once migrated',
    });
    const again = uniqueName('schema');
    assert.equal((await api.post('/v1/collections', { id: again })).status, 201);
    const doc = await api.post(`/v1/collections/${again}/documents`, {
      content: '# Back\n\nIngestion works again without a restart.',
    });
    assert.equal(doc.status, 202, doc.text);
    await eventually(
      async () =>
        (await api.get(`/v1/collections/${again}/documents/${doc.body.document.id}`)).body
          .status === 'indexed',
      { what: 'the document indexed after the schema came back' },
    );
  });
});
