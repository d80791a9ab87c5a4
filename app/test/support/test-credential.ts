import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { ApiKeyHasher, developmentPepper } from '../../src/security/api-key-format';

// Credentials for tests: principals and API keys written straight into a test database (the rows
// the service's own use cases write), hashed with the development pepper every test service uses
// (no API_KEY_PEPPER set). The run's super admin key is made once per database and process.

const hasher = new ApiKeyHasher(Buffer.from(developmentPepper, 'utf8'));

function databaseOf(databaseUrl?: string): string {
  const url = databaseUrl ?? process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL is not set: run the tests with `npm test`');
  return url;
}

export interface TestPrincipal {
  readonly id: string;
  readonly name: string;
  readonly key: string;
  readonly keyId: string;
}

/** A new principal with one key (all scopes unless told), in the database at `databaseUrl`. */
export async function createTestPrincipal(
  options: {
    databaseUrl?: string;
    superAdmin?: boolean;
    scopes?: string[];
    name?: string;
    tier?: string;
  } = {},
): Promise<TestPrincipal> {
  const client = new Client({ connectionString: databaseOf(options.databaseUrl) });
  await client.connect();
  try {
    const name = options.name ?? `test-${randomUUID()}`;
    const {
      rows: [principal],
    } = await client.query<{ id: string }>(
      'INSERT INTO principals (name, super_admin, tier) VALUES ($1, $2, $3) RETURNING id',
      [name, options.superAdmin ?? false, options.tier ?? 'standard'],
    );
    const minted = hasher.mint();
    const {
      rows: [key],
    } = await client.query<{ id: string }>(
      'INSERT INTO api_keys (principal_id, name, prefix, hash, scopes) VALUES ($1, $2, $3, $4, $5) RETURNING id',
      [
        principal.id,
        'test',
        minted.prefix,
        minted.hash,
        options.scopes ?? ['read', 'write', 'admin'],
      ],
    );
    return { id: principal.id, name, key: minted.key, keyId: key.id };
  } finally {
    await client.end();
  }
}

/**
 * The run's super admin key: one key per test process, valid on every test database the harness
 * starts a service on (startTestService and waitReady put it there, see ensureRunKey), so API
 * clients can send it without knowing which database their service uses.
 */
const run = { ...hasher.mint(), principalId: randomUUID() };
export const runApiKey = run.key;
const ensured = new Map<string, Promise<void>>();

/**
 * Puts the run's super admin and its key into the (migrated) database at `databaseUrl`, once;
 * `again` after its tables were dropped and migrated anew (same principal id, so a service that
 * still caches the principal is not confused).
 */
export function ensureRunKey(
  databaseUrl?: string,
  options: { again?: boolean } = {},
): Promise<void> {
  const url = databaseOf(databaseUrl);
  let done = options.again ? undefined : ensured.get(url);
  if (!done) {
    done = (async () => {
      const client = new Client({ connectionString: url });
      await client.connect();
      try {
        const {
          rows: [principal],
        } = await client.query<{ id: string }>(
          `INSERT INTO principals (id, name, super_admin) VALUES ($1, $2, true)
           ON CONFLICT (id) DO UPDATE SET super_admin = true RETURNING id`,
          [run.principalId, `test-run-${run.prefix}`],
        );
        await client.query(
          `INSERT INTO api_keys (principal_id, name, prefix, hash, scopes)
           VALUES ($1, 'test run', $2, $3, '{read,write,admin}') ON CONFLICT (prefix) DO NOTHING`,
          [principal.id, run.prefix, run.hash],
        );
      } finally {
        await client.end();
      }
    })();
    done.catch(() => ensured.delete(url));
    ensured.set(url, done);
  }
  return done;
}

/** The run's super admin key, made sure of in the database at `databaseUrl` (see runApiKey). */
export async function superAdminKey(databaseUrl?: string): Promise<string> {
  await ensureRunKey(databaseUrl);
  return runApiKey;
}

/** Authorization header of the run's super admin (see runApiKey). */
export function authHeaders(): Record<string, string> {
  return { authorization: `Bearer ${runApiKey}` };
}
