import type { Knex } from 'knex';

// Who may call the API (principals), what each may do per collection (collection_roles) and the
// API keys they present. A key is stored only as an HMAC-SHA-256 of the whole key under a
// server-side pepper (API_KEY_PEPPER), found by its short public prefix: a copy of this table
// without the pepper cannot be used to authenticate, nor brute-forced offline.

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('principals', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('name').notNullable().unique();
    t.boolean('super_admin').notNullable().defaultTo(false);
    t.text('tier').notNullable().defaultTo('standard');
    t.boolean('disabled').notNullable().defaultTo(false);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  await knex.schema.createTable('collection_roles', (t) => {
    t.uuid('principal_id').notNullable().references('id').inTable('principals').onDelete('CASCADE');
    // The incarnation (collections.id, the key): a collection deleted and created again under the
    // same name by someone else grants nothing to the members of its predecessor.
    t.uuid('collection_id')
      .notNullable()
      .references('id')
      .inTable('collections')
      .onDelete('CASCADE');
    t.text('role').notNullable();
    t.timestamp('granted_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['principal_id', 'collection_id']);
    t.index(['collection_id']);
    t.check("?? in ('reader', 'writer', 'admin')", ['role'], 'collection_roles_role_check');
  });

  await knex.schema.createTable('api_keys', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('principal_id').notNullable().references('id').inTable('principals').onDelete('CASCADE');
    t.text('name').nullable();
    t.text('prefix').notNullable().unique();
    t.binary('hash').notNullable();
    t.specificType('scopes', 'text[]').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('expires_at', { useTz: true }).nullable();
    t.timestamp('revoked_at', { useTz: true }).nullable();
    t.timestamp('last_used_at', { useTz: true }).nullable();
    t.index(['principal_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('api_keys');
  await knex.schema.dropTable('collection_roles');
  await knex.schema.dropTable('principals');
}
