import path from 'node:path';
import type { Knex } from 'knex';

// One place that knows where the migrations are and how knex should load them, shared by the
// service start-up, `npm run migrate` and the tests.

export const migrationsDirectory = path.resolve(__dirname, '../../../migrations');

const migratorConfig: Knex.MigratorConfig = {
  directory: migrationsDirectory,
  loadExtensions: ['.ts', '.js'],
  tableName: 'knex_migrations',
};

/** Applies every pending migration; returns the names applied (empty when already current). */
export async function migrateLatest(db: Knex): Promise<string[]> {
  const [, applied] = (await db.migrate.latest(migratorConfig)) as [number, string[]];
  return applied;
}

/** Reverts every applied migration; returns the names reverted. */
export async function migrateRollbackAll(db: Knex): Promise<string[]> {
  const [, reverted] = (await db.migrate.rollback(migratorConfig, true)) as [number, string[]];
  return reverted;
}

/** Reverts the last batch of migrations only. */
export async function migrateRollbackLast(db: Knex): Promise<string[]> {
  const [, reverted] = (await db.migrate.rollback(migratorConfig, false)) as [number, string[]];
  return reverted;
}
