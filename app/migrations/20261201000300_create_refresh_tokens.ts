import type { Knex } from 'knex';

// Refresh tokens (app/src/security/jwt/token-sessions.ts), stored as the SHA-256 of the opaque token
// only. Tokens rotated from one sign-in share a family: presenting a token whose used_at is set
// (it was already exchanged) revokes the whole family. The access token issued alongside each one is
// kept by jti so that revoking the family can deny it too.

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('refresh_tokens', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('family_id').notNullable();
    t.text('principal_id').notNullable();
    // The cap of the API key the session started from (reader/writer/admin), or null for none.
    t.text('scope').nullable();
    t.binary('token_hash').notNullable().unique();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.timestamp('used_at', { useTz: true }).nullable();
    t.timestamp('revoked_at', { useTz: true }).nullable();
    t.text('access_jti').notNullable();
    t.timestamp('access_expires_at', { useTz: true }).notNullable();
    t.index(['family_id']);
    t.index(['expires_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('refresh_tokens');
}
