import knex from 'knex';
import { loadConfig, redactUrl } from '../../config';
import { startEmbeddedPostgres, type EmbeddedPostgresServer } from './embedded-postgres';
import {
  migrateLatest,
  migrateRollbackAll,
  migrateRollbackLast,
  migrationConnection,
} from './migrations';

// `npm run migrate [up|latest|down|rollback] [--all] [--confirm=<database>]`: applies or reverts
// the schema on DATABASE_URL, or on the embedded server the service would start when DATABASE_URL
// is unset.
//
// Reverting drops tables and the queue schema with every document, chunk and job in them, so it
// is guarded: it runs only with `--confirm=<name of the target database>` (naming the database,
// not just saying yes, catches a DATABASE_URL pointing somewhere else than the operator thinks),
// and never with NODE_ENV=production, where a schema change goes forward with a new migration.

const usage = 'usage: npm run migrate -- [up|latest|down|rollback] [--all] [--confirm=<database>]';

class UsageError extends Error {}

function databaseName(url: string): string {
  return decodeURIComponent(new URL(url).pathname.replace(/^\//, '')) || 'postgres';
}

function refuseInProduction(nodeEnv: string): void {
  if (nodeEnv === 'production') {
    throw new UsageError(
      'refusing to revert migrations with NODE_ENV=production: it drops tables and every ' +
        'document in them. Write a new forward migration instead.',
    );
  }
}

function requireConfirmation(url: string, argv: readonly string[]): void {
  const name = databaseName(url);
  const confirm = argv.find((a) => a.startsWith('--confirm='))?.slice('--confirm='.length);
  if (confirm !== name) {
    throw new UsageError(
      `reverting migrations drops tables with their data in database "${name}" ` +
        `(${redactUrl(url)}). To go ahead, repeat the command with --confirm=${name}`,
    );
  }
}

async function main(argv: string[]): Promise<void> {
  const command = argv.find((a) => !a.startsWith('-')) ?? 'latest';
  const all = argv.includes('--all');
  if (!['up', 'latest', 'down', 'rollback'].includes(command)) {
    throw new UsageError(`unknown command "${command}"\n${usage}`);
  }
  const forward = command === 'up' || command === 'latest';

  const config = loadConfig();
  // Checked before anything starts, so a refused revert touches nothing.
  if (!forward) refuseInProduction(config.NODE_ENV);
  let embedded: EmbeddedPostgresServer | undefined;
  // The migrations' own login when the service's (DATABASE_URL) has DML only.
  let url = config.MIGRATION_DATABASE_URL ?? config.DATABASE_URL;
  if (!url) {
    embedded = await startEmbeddedPostgres({
      dataDir: config.EMBEDDED_POSTGRES_DIR,
      port: config.EMBEDDED_POSTGRES_PORT,
    });
    url = embedded.url;
  }
  const connection = migrationConnection(url, {
    statementTimeoutMs: config.DATABASE_STATEMENT_TIMEOUT_MS,
    lockTimeoutMs: config.DATABASE_LOCK_TIMEOUT_MS,
  });
  const db = knex({ client: 'pg', connection, pool: { min: 0, max: 2 } });
  try {
    if (!forward) requireConfirmation(url, argv);
    const names = forward
      ? await migrateLatest(db)
      : all
        ? await migrateRollbackAll(db)
        : await migrateRollbackLast(db);
    const verb = forward ? 'applied' : 'reverted';
    console.log(
      names.length === 0
        ? `${redactUrl(url)}: nothing to do`
        : `${redactUrl(url)}: ${verb} ${names.join(', ')}`,
    );
  } finally {
    await db.destroy();
    await embedded?.stop();
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  });
}
