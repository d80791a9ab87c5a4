import knex from 'knex';
import { loadConfig, redactUrl } from '../../config';
import { startEmbeddedPostgres, type EmbeddedPostgresServer } from './embedded-postgres';
import { migrateLatest, migrateRollbackAll, migrateRollbackLast } from './migrations';

// `npm run migrate [up|latest|down|rollback] [--all]`: applies or reverts the schema on
// DATABASE_URL, or on the embedded server the service would start when DATABASE_URL is unset.

const usage = 'usage: npm run migrate -- [up|latest|down|rollback] [--all]';

async function main(argv: string[]): Promise<void> {
  const command = argv.find((a) => !a.startsWith('-')) ?? 'latest';
  const all = argv.includes('--all');
  if (!['up', 'latest', 'down', 'rollback'].includes(command)) {
    throw new Error(`unknown command "${command}"\n${usage}`);
  }

  const config = loadConfig();
  let embedded: EmbeddedPostgresServer | undefined;
  let url = config.DATABASE_URL;
  if (!url) {
    embedded = await startEmbeddedPostgres({
      dataDir: config.EMBEDDED_POSTGRES_DIR,
      port: config.EMBEDDED_POSTGRES_PORT,
    });
    url = embedded.url;
  }
  const db = knex({ client: 'pg', connection: url, pool: { min: 0, max: 2 } });
  try {
    const names =
      command === 'up' || command === 'latest'
        ? await migrateLatest(db)
        : all
          ? await migrateRollbackAll(db)
          : await migrateRollbackLast(db);
    const verb = command === 'up' || command === 'latest' ? 'applied' : 'reverted';
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

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
