import type { Knex } from 'knex';
import { databaseRoles } from '../../catalog/database-roles';

// The service's role gets DML on whatever the migrations' role creates (default privileges, set
// by the bootstrap: catalog/database-roles.ts), which includes knex's own bookkeeping tables. The
// service only reads them (is the schema current?); writing them would let it mark a migration
// applied that never ran. Where the roles do not exist (the embedded default, a database run by
// one superuser) there is nothing to revoke.

const tables = ['knex_migrations', 'knex_migrations_lock'];

async function serviceRoleExists(knex: Knex): Promise<boolean> {
  const { rows } = await knex.raw<{ rows: unknown[] }>('SELECT 1 FROM pg_roles WHERE rolname = ?', [
    databaseRoles.service,
  ]);
  return rows.length > 0;
}

export async function up(knex: Knex): Promise<void> {
  if (!(await serviceRoleExists(knex))) return;
  for (const table of tables) {
    await knex.raw('REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON ?? FROM ??', [
      table,
      databaseRoles.service,
    ]);
    await knex.raw('GRANT SELECT ON ?? TO ??', [table, databaseRoles.service]);
  }
}

export async function down(knex: Knex): Promise<void> {
  if (!(await serviceRoleExists(knex))) return;
  for (const table of tables) {
    await knex.raw('GRANT INSERT, UPDATE, DELETE ON ?? TO ??', [table, databaseRoles.service]);
  }
}
