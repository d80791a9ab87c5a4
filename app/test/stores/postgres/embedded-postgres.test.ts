import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import knex from 'knex';
import { startEmbeddedPostgres } from '../../../src/stores/postgres/embedded-postgres';
import { migrateLatest } from '../../../src/stores/postgres/migrations';
import { closedPort } from './test-database';

// The embedded default's Postgres: a real server from npm binaries, migrated like any other, whose
// data directory survives a restart.

describe('embedded Postgres', function () {
  this.timeout(60_000);
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'rag-embedded-pg-'));
    // As root the server runs as `postgres`, which must be able to reach its data directory.
    await chmod(dir, 0o755);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('starts, runs the migrations, stops, and restarts on the same data', async () => {
    const port = await closedPort();
    const dataDir = path.join(dir, 'pg');
    const first = await startEmbeddedPostgres({ dataDir, port });
    const db1 = knex({ client: 'pg', connection: first.url, pool: { min: 0, max: 2 } });
    try {
      assert.ok((await migrateLatest(db1)).length >= 2);
      await db1('collections').insert({ name: 'kept', embedding_model: 'm', dimensions: 8 });
    } finally {
      await db1.destroy();
      await first.stop();
    }
    const second = await startEmbeddedPostgres({ dataDir, port });
    const db2 = knex({ client: 'pg', connection: second.url, pool: { min: 0, max: 2 } });
    try {
      assert.deepEqual(await migrateLatest(db2), [], 'already migrated');
      assert.deepEqual(await db2('collections').pluck('name'), ['kept']);
    } finally {
      await db2.destroy();
      await second.stop();
    }
  });
});
