import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { Knex } from 'knex';

// One place that knows where the migrations are and how knex should load them, shared by the
// service start-up, `npm run migrate` and the tests.

export const migrationsDirectory = path.resolve(__dirname, '../../../migrations');

/**
 * The migrations run as TypeScript (tests, ts-node) or as tsc's JavaScript (the production
 * build), each form loading files of its own extension. knex records a migration by its name, and
 * its default name is the file name, so a database migrated by one form would find the other's
 * files new and its own missing ("migration directory is corrupt"). Every form therefore names a
 * migration by its source file, `<name>.ts`, which is also what databases migrated before the
 * build existed hold.
 */
class SourceNamedMigrations implements Knex.MigrationSource<string> {
  private readonly extension = path.extname(__filename);

  async getMigrations(): Promise<string[]> {
    const files = await readdir(migrationsDirectory);
    return files.filter((f) => path.extname(f) === this.extension && !f.endsWith('.d.ts')).sort();
  }

  getMigrationName(file: string): string {
    return `${path.basename(file, this.extension)}.ts`;
  }

  async getMigration(file: string): Promise<Knex.Migration> {
    // require, not import(): under ts-node only require goes through its TypeScript hook.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(path.join(migrationsDirectory, file)) as Knex.Migration;
  }
}

/**
 * The connection `npm run migrate` (the deploy's migration Job) applies migrations on: the same
 * statement and lock timeouts as the service's primary pool, which applies them at start-up. A
 * migration waiting for a lock on a busy table gives up after `lockTimeoutMs` (the Job retries)
 * instead of queueing every query of the running version behind it.
 */
export function migrationConnection(
  url: string,
  timeouts: { statementTimeoutMs: number; lockTimeoutMs: number },
): Knex.PgConnectionConfig & { lock_timeout: number } {
  return {
    connectionString: url,
    statement_timeout: timeouts.statementTimeoutMs,
    lock_timeout: timeouts.lockTimeoutMs,
  };
}

const source = new SourceNamedMigrations();
const migratorConfig: Knex.MigratorConfig = {
  migrationSource: source,
  tableName: 'knex_migrations',
};

/** Applies every pending migration; returns the names applied (empty when already current). */
export async function migrateLatest(db: Knex): Promise<string[]> {
  const [, applied] = (await db.migrate.latest(migratorConfig)) as [number, string[]];
  return applied;
}

/**
 * The migrations not applied yet, read only (knex's list reads its two tables, creating them only
 * when they are missing): what a service whose role may not write them checks at start-up.
 */
export async function pendingMigrations(db: Knex): Promise<string[]> {
  const [, pending] = (await db.migrate.list(migratorConfig)) as [unknown[], string[]];
  return pending.map((file) => source.getMigrationName(file));
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
