import assert from 'node:assert/strict';
import knex, { type Knex } from 'knex';
import { migrateLatest, migrateRollbackAll } from '../../../src/stores/postgres/migrations';
import { createTestDatabase, type TestDatabase } from './test-database';

// Reversible migrations on a real server: up, down (everything gone), up again.

const appRelations = [
  'collections',
  'documents',
  'chunks',
  'audit_events',
  'pgboss.version',
  'pgboss.job',
];

async function existing(db: Knex): Promise<string[]> {
  const found: string[] = [];
  for (const name of appRelations) {
    const { rows } = await db.raw('SELECT to_regclass(?) AS r', [name]);
    if (rows[0].r) found.push(name);
  }
  return found;
}

describe('migrations', function () {
  this.timeout(30_000);
  let testDb: TestDatabase;
  let db: Knex;

  before(async () => {
    testDb = await createTestDatabase('migrations');
    db = knex({ client: 'pg', connection: testDb.primaryUrl, pool: { min: 0, max: 2 } });
  });
  after(async () => {
    await db?.destroy();
    await testDb?.drop();
  });

  it('go up, down to nothing, and up again', async () => {
    assert.deepEqual(await existing(db), []);

    const applied = await migrateLatest(db);
    assert.ok(applied.length >= 2, `applied ${applied.join(', ')}`);
    assert.deepEqual(await existing(db), appRelations);
    assert.deepEqual(await migrateLatest(db), [], 'a second run has nothing to do');

    const reverted = await migrateRollbackAll(db);
    assert.deepEqual([...reverted].sort(), [...applied].sort());
    assert.deepEqual(await existing(db), []);
    const { rows } = await db.raw(
      "SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = 'pgboss'",
    );
    assert.equal(rows[0].n, 0, 'the queue schema is gone too');

    assert.deepEqual(await migrateLatest(db), applied);
    assert.deepEqual(await existing(db), appRelations);
  });

  it('enforces the schema rules the code relies on', async () => {
    await migrateLatest(db);
    const [collection] = await db('collections')
      .insert({ name: 'rules', embedding_model: 'm', dimensions: 8 })
      .returning('*');
    assert.equal(Number(collection.index_version), 0);
    const doc = {
      collection_id: collection.id,
      source: 's',
      media_type: 'text/plain',
      content: 'x',
      content_hash: 'h',
      size_bytes: 1,
    };
    await db('documents').insert(doc);
    await assert.rejects(db('documents').insert(doc), { code: '23505' }, 'unique per source');
    await assert.rejects(db('documents').insert({ ...doc, source: 't', status: 'bogus' }), {
      code: '23514',
    });
    await assert.rejects(db('documents').insert({ ...doc, source: 'u', media_type: 'text/html' }), {
      code: '23514',
    });
    await db('collections').where({ id: collection.id }).delete();
    const { rows } = await db.raw('SELECT count(*)::int AS n FROM documents');
    assert.equal(rows[0].n, 0, 'documents cascade with their collection');
  });
});
