import assert from 'node:assert/strict';
import { Client } from 'pg';
import type { Knex } from 'knex';
import { Database, type DatabaseOptions } from '../../../src/stores/postgres/database';
import {
  closedPort,
  createTestDatabase,
  metricValue,
  requireEnv,
  startTcpProxy,
  testMetrics,
  waitFor,
  type TestDatabase,
} from './test-database';

// Routing on the real primary + streaming replica: reads land on the replica (proven by
// pg_is_in_recovery() inside read()), and fall back to the primary when the replica is unreachable,
// becomes unreachable mid-run, or lags beyond the bound (replay paused on the real replica).

const inRecovery = (db: Knex) =>
  db.raw<{ rows: { r: boolean }[] }>('SELECT pg_is_in_recovery() AS r').then((x) => x.rows[0].r);

describe('Database (primary + replica routing)', function () {
  this.timeout(30_000);
  let testDb: TestDatabase;
  const open: Database[] = [];

  function database(overrides: Partial<DatabaseOptions> = {}): Database {
    const db = new Database({
      primaryUrl: testDb.primaryUrl,
      replicaUrls: [testDb.replicaUrl],
      poolMax: 4,
      statementTimeoutMs: 5_000,
      lockTimeoutMs: 2_000,
      replicaMaxLagSeconds: 5,
      replicaCheckIntervalMs: 100,
      connectTimeoutMs: 1_000,
      metrics: testMetrics(),
      ...overrides,
    });
    open.push(db);
    return db;
  }

  before(async () => {
    testDb = await createTestDatabase('db_routing');
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((d) => d.close()));
  });
  after(async () => {
    await testDb?.drop();
  });

  it('writes on the primary and reads the row back from the replica', async () => {
    const metrics = testMetrics();
    const db = database({ metrics });
    await db.start();
    await db.primary.raw('CREATE TABLE notes (id int PRIMARY KEY, body text)');
    await db.primary('notes').insert({ id: 1, body: 'written on the primary' });
    assert.equal(await inRecovery(db.primary), false);

    // Until the first replica check has measured its lag, reads go to the primary; on a loaded
    // machine that can outlast the row's replication, so wait for a read that ran on the replica.
    const onReplica = () =>
      db.read(async (r) => ({
        recovery: await inRecovery(r),
        row: await r('notes').where({ id: 1 }).first(),
      }));
    await waitFor(
      async () => {
        const read = await onReplica().catch(() => undefined);
        return read?.recovery === true && read.row !== undefined;
      },
      10_000,
      'a read on the replica that sees the row',
    );
    const { recovery, row } = await onReplica();
    assert.equal(recovery, true, 'read() must run on the replica');
    assert.equal(row.body, 'written on the primary');

    const health = db.health();
    assert.equal(health.readTarget, 'replica');
    assert.equal(health.primary.up, true);
    assert.deepEqual(
      health.replicas.map((r) => [r.name, r.state]),
      [[`127.0.0.1:${requireEnv('TEST_PG_REPLICA_PORT')}`, 'up']],
    );
    assert.ok((await metricValue(metrics, 'rag_db_reads_total', { target: 'replica' }))! >= 1);
    const lag = await metricValue(metrics, 'rag_postgres_replica_lag_seconds', {
      replica: health.replicas[0].name,
    });
    assert.ok(lag !== undefined && lag >= 0 && lag < 5);
  });

  it('applies statement_timeout and lock_timeout to every pooled connection', async () => {
    const db = database({ statementTimeoutMs: 1234, lockTimeoutMs: 567 });
    await db.start();
    for (const pool of [db.primary, undefined]) {
      const settings = await (pool
        ? pool
            .raw('SHOW statement_timeout')
            .then(async (s) => [s, await pool.raw('SHOW lock_timeout')])
        : db.read(async (r) => [
            await r.raw('SHOW statement_timeout'),
            await r.raw('SHOW lock_timeout'),
          ]));
      assert.equal(settings[0].rows[0].statement_timeout, '1234ms');
      assert.equal(settings[1].rows[0].lock_timeout, '567ms');
    }
  });

  it('cancels a statement that runs past statement_timeout, on both pools', async () => {
    const db = database({ statementTimeoutMs: 200 });
    await db.start();
    await assert.rejects(db.primary.raw('SELECT pg_sleep(2)'), { code: '57014' });
    await assert.rejects(
      db.read((r) => r.raw('SELECT pg_sleep(2)')),
      { code: '57014' },
    );
    // The pool survives the cancellation.
    assert.equal((await db.primary.raw('SELECT 1 AS one')).rows[0].one, 1);
  });

  it('gives up waiting for a lock after lock_timeout', async () => {
    const db = database({ lockTimeoutMs: 150 });
    await db.start();
    await db.primary.raw('CREATE TABLE IF NOT EXISTS locked_rows (id int PRIMARY KEY)');
    const holder = new Client(testDb.primaryUrl);
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE locked_rows IN ACCESS EXCLUSIVE MODE');
      const started = Date.now();
      await assert.rejects(db.primary('locked_rows').insert({ id: 1 }), { code: '55P03' });
      assert.ok(Date.now() - started < 2_000, 'must fail at the lock timeout, not later');
    } finally {
      await holder.query('ROLLBACK').catch(() => undefined);
      await holder.end();
    }
  });

  it('reads from the primary when the replica is unreachable, and says so', async () => {
    const port = await closedPort();
    const metrics = testMetrics();
    const db = database({
      replicaUrls: [`postgres://postgres@127.0.0.1:${port}/${testDb.name}`],
      metrics,
    });
    await db.start();
    assert.equal(await db.read(inRecovery), false, 'the read must fall back to the primary');
    const health = db.health();
    assert.equal(health.readTarget, 'primary');
    assert.equal(health.replicas[0].state, 'down');
    assert.equal(health.replicas[0].name, `127.0.0.1:${port}`);
    assert.match(health.replicas[0].error ?? '', /ECONNREFUSED/);
    // Routing state only: rag_dependency_up has one writer, the state owner (health/).
    assert.equal(
      await metricValue(metrics, 'rag_dependency_up', { dependency: 'postgres_replica' }),
      undefined,
    );
    assert.equal(await metricValue(metrics, 'rag_db_reads_total', { target: 'primary' }), 1);
    assert.equal(
      await metricValue(metrics, 'rag_db_reads_total', { target: 'replica' }),
      undefined,
    );
  });

  it('falls back on the read itself when a healthy replica drops between checks', async () => {
    const proxy = await startTcpProxy(Number(requireEnv('TEST_PG_REPLICA_PORT')));
    const metrics = testMetrics();
    const db = database({
      replicaUrls: [`postgres://postgres@127.0.0.1:${proxy.port}/${testDb.name}`],
      // No background check will run during the test: the read path must notice on its own.
      replicaCheckIntervalMs: 60_000,
      metrics,
    });
    await db.start();
    assert.equal(await db.read(inRecovery), true);
    await proxy.cut();
    assert.equal(await db.read(inRecovery), false, 'the failed read is re-run on the primary');
    assert.equal(db.health().replicas[0].state, 'down');
    assert.equal(db.health().readTarget, 'primary');
    assert.equal(await metricValue(metrics, 'rag_db_reads_total', { target: 'primary' }), 1);
  });

  it('reads from the primary while the replica lags beyond the bound, and returns after', async () => {
    const metrics = testMetrics();
    const db = database({ replicaMaxLagSeconds: 0.5, replicaCheckIntervalMs: 100, metrics });
    await db.start();
    await db.primary.raw('CREATE TABLE IF NOT EXISTS ticks (id serial PRIMARY KEY)');
    await waitFor(() => db.health().readTarget === 'replica', 5_000, 'replica in use');
    const replica = new Client(testDb.replicaUrl);
    await replica.connect();
    try {
      await replica.query('SELECT pg_wal_replay_pause()');
      await db.primary('ticks').insert({});
      await waitFor(() => db.health().replicas[0].state === 'lagging', 10_000, 'lag detected');
      assert.equal(db.health().readTarget, 'primary');
      assert.equal(await db.read(inRecovery), false, 'reads must go to the primary while lagging');
      const lag = await metricValue(metrics, 'rag_postgres_replica_lag_seconds', {
        replica: db.health().replicas[0].name,
      });
      assert.ok(lag! > 0.5, `lag gauge should exceed the bound, got ${lag}`);

      await replica.query('SELECT pg_wal_replay_resume()');
      await waitFor(() => db.health().readTarget === 'replica', 10_000, 'replica caught up');
      assert.equal(await db.read(inRecovery), true);
    } finally {
      await replica.query('SELECT pg_wal_replay_resume()').catch(() => undefined);
      await replica.end();
    }
  });

  it('confirms a lookup that misses on the replica on the primary (read-your-writes for creations)', async () => {
    // A lag bound the paused replica stays within, so reads keep going to it.
    const db = database({ replicaMaxLagSeconds: 60 });
    await db.start();
    await db.primary.raw('CREATE TABLE IF NOT EXISTS lookups (id int PRIMARY KEY)');
    await waitFor(
      async () => (await db.read((r) => r.raw("SELECT to_regclass('lookups') AS t"))).rows[0].t,
      5_000,
      'the table on the replica',
    );
    const replica = new Client(testDb.replicaUrl);
    await replica.connect();
    try {
      await replica.query('SELECT pg_wal_replay_pause()');
      await db.primary('lookups').insert({ id: 7 });
      const byId = (r: Knex) => r('lookups').where({ id: 7 }).first();
      assert.equal(await db.read(byId), undefined, 'the paused replica has not seen the insert');
      assert.deepEqual(await db.lookup(byId), { id: 7 });
      assert.equal(await db.lookup((r) => r('lookups').where({ id: 8 }).first()), undefined);
    } finally {
      await replica.query('SELECT pg_wal_replay_resume()').catch(() => undefined);
      await replica.end();
    }
  });
});
