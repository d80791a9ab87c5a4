import assert from 'node:assert/strict';
import { Client } from 'pg';
import { databaseRoles } from '../../../../catalog/database-roles';
import type { RunningService } from '../../../src/service';
import { apiClient } from '../../support/http-client';
import { requireEnv, startTestService, uniqueName } from '../../support/test-service';
import { createTestDatabase, serviceDatabaseEnv, type TestDatabase } from './test-database';
import knex from 'knex';
import { migrateLatest } from '../../../src/stores/postgres/migrations';

// The roles of catalog/database-roles.ts as the bootstrap creates them (createTestDatabase runs
// the same statements as the platform's bootstrap): the service's login can read and write the
// service's tables and do nothing else; the migrations' login owns everything it creates.

async function connect(url: string): Promise<Client> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  await client.connect();
  return client;
}

async function refusedWith(client: Client, sql: string, code: string): Promise<void> {
  await assert.rejects(client.query(sql), (err: { code?: string; message: string }) => {
    assert.equal(err.code, code, `${sql}: ${err.message}`);
    return true;
  });
}

describe('least-privilege database roles', function () {
  this.timeout(60_000);
  let db: TestDatabase;
  let service: Client;
  let migrator: Client;

  before(async () => {
    db = await createTestDatabase('roles');
    const migrations = knex({
      client: 'pg',
      connection: db.migrationUrl,
      pool: { min: 0, max: 1 },
    });
    try {
      await migrateLatest(migrations);
    } finally {
      await migrations.destroy();
    }
    service = await connect(db.serviceUrl);
    migrator = await connect(db.migrationUrl);
  });
  after(async () => {
    await service?.end();
    await migrator?.end();
    await db?.drop();
  });

  it('the service reads and writes its tables, pg-boss queue and sequences', async () => {
    const name = uniqueName('roles');
    const { rows } = await service.query<{ id: string }>(
      `INSERT INTO collections (name, embedding_model, dimensions) VALUES ($1, 'm', 8) RETURNING id`,
      [name],
    );
    await service.query(
      `INSERT INTO documents (collection_id, source, media_type, content, content_hash, size_bytes)
       VALUES ($1, 's', 'text/plain', 'x', 'h', 1)`,
      [rows[0].id],
    );
    await service.query('UPDATE collections SET description = $1 WHERE id = $2', ['d', rows[0].id]);
    await service.query('SELECT count(*) FROM pgboss.job');
    await service.query("UPDATE pgboss.queue SET retry_limit = retry_limit WHERE name = 'ingest'");
    await service.query('DELETE FROM collections WHERE id = $1', [rows[0].id]);
  });

  it('the service runs no DDL, truncates nothing and reads no secret catalog', async () => {
    await refusedWith(service, 'CREATE TABLE intruder (id int)', '42501');
    await refusedWith(service, 'CREATE SCHEMA intruder', '42501');
    await refusedWith(service, 'DROP TABLE chunks', '42501');
    await refusedWith(service, 'ALTER TABLE documents ADD COLUMN intruder int', '42501');
    await refusedWith(service, 'CREATE INDEX intruder ON documents (title)', '42501');
    await refusedWith(service, 'TRUNCATE collections', '42501');
    await refusedWith(service, 'DROP SCHEMA pgboss CASCADE', '42501');
    await refusedWith(service, 'SELECT rolpassword FROM pg_authid', '42501');
    await refusedWith(service, 'CREATE ROLE intruder', '42501');
    await refusedWith(service, `GRANT ${databaseRoles.migrator} TO CURRENT_USER`, '42501');
    await refusedWith(service, `SET ROLE ${databaseRoles.migrator}`, '42501');
    // Nor may it mark a migration applied that never ran.
    await refusedWith(
      service,
      "INSERT INTO knex_migrations (name, batch, migration_time) VALUES ('x.ts', 99, now())",
      '42501',
    );
    await refusedWith(service, 'UPDATE knex_migrations_lock SET is_locked = 1', '42501');
    await service.query('SELECT count(*) FROM knex_migrations');
  });

  it('the migrator owns every object it made, and what it creates later is the service’s too', async () => {
    const { rows: foreign } = await migrator.query<{ name: string; owner: string }>(
      `SELECT n.nspname || '.' || c.relname AS name, pg_get_userbyid(c.relowner) AS owner
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname IN ('public', 'pgboss') AND pg_get_userbyid(c.relowner) <> $1`,
      [databaseRoles.migrator],
    );
    assert.deepEqual(foreign, []);
    // A later migration's table: default privileges cover it with no grant of its own.
    await migrator.query('CREATE TABLE later_migration (id bigserial PRIMARY KEY, v text)');
    await service.query("INSERT INTO later_migration (v) VALUES ('ok')");
    assert.equal((await service.query('SELECT v FROM later_migration')).rows[0].v, 'ok');
    await refusedWith(service, 'DROP TABLE later_migration', '42501');
  });

  it('the monitoring role reads server statistics through pg_monitor', async () => {
    const { rows } = await migrator.query<{ member: boolean }>(
      "SELECT pg_has_role($1, 'pg_monitor', 'MEMBER') AS member",
      [databaseRoles.monitor],
    );
    assert.equal(rows[0].member, true);
  });

  it('Vault’s login manages users and reads no table; the exporters’ login reads statistics only', async () => {
    const vault = await connect(db.vaultUrl);
    const exporter = await connect(
      (() => {
        const u = new URL(requireEnv('TEST_EXPORTER_DATABASE_URL'));
        u.pathname = `/${db.name}`;
        return u.toString();
      })(),
    );
    try {
      await refusedWith(vault, 'SELECT count(*) FROM collections', '42501');
      await refusedWith(vault, 'CREATE TABLE intruder (id int)', '42501');
      await refusedWith(exporter, 'SELECT count(*) FROM collections', '42501');
      // pg_monitor: other sessions' queries are visible to it, as postgres_exporter needs.
      const { rows } = await exporter.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE query <> '<insufficient privilege>' AND usename <> current_user",
      );
      assert.ok(rows[0].n > 0);
    } finally {
      await vault.end();
      await exporter.end();
    }
  });

  it('roles replicate: the service logs in to the replica and reads there', async () => {
    const replica = await connect(db.serviceReplicaUrl);
    try {
      const { rows } = await replica.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r');
      assert.equal(rows[0].r, true);
      await replica.query('SELECT count(*) FROM collections');
    } finally {
      await replica.end();
    }
  });

  describe('the service on its DML-only login', () => {
    let running: RunningService | undefined;
    after(async () => running?.close());

    it('starts on a current schema without the migrations’ login, writing none of knex’s tables', async () => {
      running = await startTestService({
        ...serviceDatabaseEnv(db),
        MIGRATION_DATABASE_URL: '',
      });
      const api = apiClient(running.url);
      assert.equal((await api.post('/v1/collections', { id: uniqueName('dml') })).status, 201);
    });
  });
});
