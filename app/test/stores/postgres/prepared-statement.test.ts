import assert from 'node:assert/strict';
import { Client } from 'pg';
import type { Knex } from 'knex';
import { createKnexPool } from '../../../src/stores/postgres/database';
import { PreparedStatement } from '../../../src/stores/postgres/prepared-statement';
import { createTestDatabase, type TestDatabase } from './test-database';

// On a pool of one connection, so every statement of a test meets the same server session and
// pg_prepared_statements shows what that session holds.

describe('PreparedStatement (a named statement on a pooled connection)', function () {
  this.timeout(30_000);
  let testDb: TestDatabase;
  let pool: Knex;
  let admin: Client;

  before(async () => {
    testDb = await createTestDatabase('prepared');
    admin = new Client(testDb.primaryUrl);
    await admin.connect();
  });
  beforeEach(async () => {
    await admin.query('DROP TABLE IF EXISTS readings');
    await admin.query('CREATE TABLE readings (id int PRIMARY KEY, value int NOT NULL)');
    await admin.query('INSERT INTO readings SELECT n, n * 10 FROM generate_series(1, 5) AS n');
    pool = createKnexPool(testDb.primaryUrl, {
      poolMax: 1,
      applicationName: 'prepared-statement-test',
    });
  });
  afterEach(async () => {
    await pool.destroy();
  });
  after(async () => {
    await admin?.end();
    await testDb?.drop();
  });

  const held = async (name: string) => {
    const { rows } = await pool.raw<{
      rows: { generic_plans: string; custom_plans: string }[];
    }>('SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE name = ?', [name]);
    return rows.map((r) => Number(r.generic_plans) + Number(r.custom_plans));
  };

  it('is parsed once per connection and run with each call’s values', async () => {
    const statement = new PreparedStatement<{ value: number }>(
      'SELECT value FROM readings WHERE id = ANY($1::int[]) ORDER BY id',
    );
    const announced: { sql: string; bindings: unknown[] }[] = [];
    pool.on('query', (query: { sql: string; bindings: unknown[] }) => announced.push(query));
    assert.deepEqual(await statement.rows(pool, [[1, 2]]), [{ value: 10 }, { value: 20 }]);
    // Announced to the pool's listeners as knex announces its own queries.
    assert.deepEqual(
      announced.map((q) => [q.sql, q.bindings]),
      [[statement.text, [[1, 2]]]],
    );
    assert.deepEqual(await statement.rows(pool, [[5]]), [{ value: 50 }]);
    assert.deepEqual(await statement.rows(pool, [[]]), []);
    // One prepared statement that ran three times (a statement prepared per call would show 1).
    assert.deepEqual(await held(statement.name), [3]);
  });

  it('names a statement by its text, so two texts never share a name', () => {
    const a = new PreparedStatement('SELECT 1');
    assert.equal(new PreparedStatement('SELECT 1').name, a.name);
    assert.notEqual(new PreparedStatement('SELECT 2').name, a.name);
  });

  it('still answers after a migration changes a selected column’s type under it', async () => {
    const statement = new PreparedStatement<{ value: unknown }>(
      'SELECT value FROM readings WHERE id = $1',
    );
    assert.deepEqual(await statement.rows(pool, [2]), [{ value: 20 }]);
    await admin.query('ALTER TABLE readings ALTER COLUMN value TYPE text');
    // Postgres refuses the prepared statement from now on ("cached plan must not change result
    // type"); the connection runs it unnamed instead, this time and the next.
    assert.deepEqual(await statement.rows(pool, [2]), [{ value: '20' }]);
    assert.deepEqual(await statement.rows(pool, [3]), [{ value: '30' }]);
  });

  it('rejects with the server’s error, tells the pool’s listeners, and frees the connection', async () => {
    const errors: unknown[] = [];
    pool.on('query-error', (err: unknown) => errors.push(err));
    const statement = new PreparedStatement(
      'SELECT value / $1::int AS ratio FROM readings ORDER BY id',
    );
    await assert.rejects(statement.rows(pool, [0]), { code: '22012' });
    assert.equal(errors.length, 1);
    assert.equal((errors[0] as { code?: string }).code, '22012');
    // The pool's only connection is back: the next statement runs.
    assert.deepEqual(
      await statement.rows(pool, [10]),
      [1, 2, 3, 4, 5].map((ratio) => ({ ratio })),
    );
  });
});
