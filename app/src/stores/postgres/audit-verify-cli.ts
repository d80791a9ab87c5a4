import knex from 'knex';
import { loadConfig, redactUrl } from '../../config';
import { describeChainReport, parseAnchor, verifyAuditChain } from './audit-chain-verifier';
import { startEmbeddedPostgres, type EmbeddedPostgresServer } from './embedded-postgres';

// `npm run audit:verify [-- --anchor=<id>:<hash> ...]`: walks the audit log's hash chain on
// DATABASE_URL (or the embedded server the service would start without it) and says whether it
// is intact; each anchor (a head an earlier run printed) must still be in it, unchanged.
// Exit 0: intact (the count and the head's id and hash on stdout); 1: broken (the first broken
// row, expected against found, on stderr); 2: the check could not run (no database, no table).

export const exitCodes = { intact: 0, broken: 1, failed: 2 } as const;

const usage = 'usage: npm run audit:verify [-- --anchor=<id>:<hash> ...]';

async function main(argv: readonly string[]): Promise<number> {
  const anchors = argv.map((arg) => {
    if (!arg.startsWith('--anchor=')) throw new Error(`unknown argument "${arg}"\n${usage}`);
    return parseAnchor(arg.slice('--anchor='.length));
  });
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
  const db = knex({
    client: 'pg',
    connection: { connectionString: url, statement_timeout: config.DATABASE_STATEMENT_TIMEOUT_MS },
    pool: { min: 0, max: 1 },
  });
  try {
    const report = await verifyAuditChain(db, { anchors });
    if (report.broken) {
      console.error(`${redactUrl(url)}: ${describeChainReport(report)}`);
      return exitCodes.broken;
    }
    console.log(`${redactUrl(url)}: ${describeChainReport(report)}`);
    return exitCodes.intact;
  } finally {
    await db.destroy();
    await embedded?.stop();
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      console.error(`audit chain not verified: ${err instanceof Error ? err.message : err}`);
      process.exitCode = exitCodes.failed;
    },
  );
}
