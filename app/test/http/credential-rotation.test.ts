import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import knex from 'knex';
import { Client } from 'pg';
import {
  loginCreationStatements,
  loginRevocationStatements,
  renderLoginStatements,
  type LoginUser,
} from '../../../catalog/database-roles';
import type { RunningService } from '../../src/service';
import { migrateLatest } from '../../src/stores/postgres/migrations';
import { createTestDatabase, type TestDatabase } from '../stores/postgres/test-database';
import { apiClient } from '../support/http-client';
import { eventually, startTestService, uniqueName } from '../support/test-service';

// Vault's database secrets engine issues the service a short-lived user; Vault Agent renders the
// next one into the credentials file before the current lease ends, and at the lease's end Vault
// runs the revocation statements (NOLOGIN, terminate the user's sessions, DROP ROLE). This test
// plays Vault with the very statements infra gives it (catalog/database-roles.ts), against the
// real service under continuous query and ingest load: not one request may fail. It also captures
// every log line of the whole run (start, ingest, queries, bad input, rotation, shutdown) and
// looks for every secret in play in them.

function hostOnly(url: string): string {
  const u = new URL(url);
  u.username = '';
  u.password = '';
  return u.toString();
}

function newLogin(): LoginUser {
  return {
    name: `v-rag-api-${randomBytes(4).toString('hex')}`,
    password: randomBytes(18).toString('base64url'),
  };
}

describe('database credentials rotate under load with no failed request', function () {
  this.timeout(180_000);
  let db: TestDatabase;
  let admin: Client;
  let dir: string;
  let service: RunningService | undefined;
  const logLines: string[] = [];

  const sessionsOf = async (user: string, target: 'primary' | 'replica') => {
    const client = new Client(target === 'primary' ? db.primaryUrl : db.replicaUrl);
    await client.connect();
    try {
      const { rows } = await client.query<{ state: string | null }>(
        'SELECT state FROM pg_stat_activity WHERE usename = $1',
        [user],
      );
      return rows.map((r) => r.state ?? '');
    } finally {
      await client.end();
    }
  };
  const run = async (statements: string[]) => {
    for (const s of statements) await admin.query(s);
  };
  const writeCredentials = async (login: LoginUser) => {
    // As Vault Agent and the kubelet do: a new file renamed over the old one.
    const file = path.join(dir, 'database-credentials');
    const next = path.join(dir, `.next-${randomBytes(4).toString('hex')}`);
    await writeFile(next, JSON.stringify({ username: login.name, password: login.password }));
    await rename(next, file);
    return file;
  };

  before(async () => {
    db = await createTestDatabase('rotation');
    const migrations = knex({
      client: 'pg',
      connection: db.migrationUrl,
      pool: { min: 0, max: 1 },
    });
    try {
      await migrateLatest(migrations);
    } finally {
      await migrations.destroy();
    }
    // Users come and go as Vault makes them: with its login, not the superuser's.
    admin = new Client(db.vaultUrl);
    await admin.connect();
    dir = await mkdtemp(path.join(tmpdir(), 'rag-credentials-'));
  });
  after(async () => {
    await service?.close();
    await admin?.end();
    await db?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it('switches every connection to the new user; the old one is revoked mid-load', async () => {
    const first = newLogin();
    const second = newLogin();
    await run(renderLoginStatements(loginCreationStatements('service'), first));
    const file = await writeCredentials(first);

    const logs = new PassThrough();
    let buffered = '';
    logs.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const parts = buffered.split('\n');
      buffered = parts.pop() ?? '';
      logLines.push(...parts.filter((p) => p.trim()));
    });
    service = await startTestService(
      {
        // Hosts only: the login comes from the file alone.
        DATABASE_URL: hostOnly(db.serviceUrl),
        DATABASE_REPLICA_URLS: hostOnly(db.serviceReplicaUrl),
        MIGRATION_DATABASE_URL: db.migrationUrl,
        DATABASE_CREDENTIALS_FILE: file,
        DATABASE_CREDENTIALS_CHECK_INTERVAL_MS: '500',
        LOG_LEVEL: 'debug',
        QUEUE_CONCURRENCY: '2',
      },
      { logDestination: logs },
    );
    const api = apiClient(service.url);
    const collection = uniqueName('rotation');
    assert.equal((await api.post('/v1/collections', { id: collection })).status, 201);
    const seeded = await api.post(`/v1/collections/${collection}/documents`, {
      source: 'seed',
      content: '# Rotation\n\nDatabase credentials rotate while the service keeps answering.',
    });
    assert.equal(seeded.status, 202, seeded.text);
    await eventually(
      async () =>
        (await api.get(`/v1/collections/${collection}/documents/${seeded.body.document.id}`)).body
          ?.status === 'indexed',
      { what: 'seed document indexed' },
    );
    // Bad input and a missing resource: error paths log too.
    assert.equal((await api.post('/v1/query', { collection })).status, 400);
    assert.equal((await api.get('/v1/collections/no-such-collection')).status, 404);

    const failures: string[] = [];
    let succeeded = 0;
    let stop = false;
    const worker = async (n: number) => {
      for (let i = 0; !stop; i++) {
        const res =
          i % 5 === 4
            ? await api.post(`/v1/collections/${collection}/documents`, {
                source: `doc-${n}-${i}`,
                content: `# Load ${n} ${i}\n\nIngested while the database user changes.`,
              })
            : i % 5 === 3
              ? await api.get(`/v1/collections/${collection}/documents?status=indexed`)
              : await api.post('/v1/query', {
                  collection,
                  query: `which credentials rotate ${i % 7}`,
                });
        if (res.status >= 300) failures.push(`${res.status} ${res.text.slice(0, 300)}`);
        else succeeded++;
      }
    };
    const load = [0, 1, 2, 3].map(worker);
    try {
      await eventually(() => succeeded > 40, { what: 'load running' });

      await run(renderLoginStatements(loginCreationStatements('service'), second));
      await writeCredentials(second);
      // Every pool and session of the service moves to the new user: the primary's pools, the
      // queue's, the change listener, the worker's liveness session, and the replica's pool.
      await eventually(
        async () =>
          (await sessionsOf(second.name, 'primary')).length >= 3 &&
          (await sessionsOf(second.name, 'replica')).length >= 1,
        { timeoutMs: 30_000, what: 'new user connected to primary and replica' },
      );
      // What Vault waits for, by lease arithmetic: the old user's queries in flight have ended.
      await eventually(
        async () =>
          !(await sessionsOf(first.name, 'primary')).some((s) => s !== 'idle') &&
          !(await sessionsOf(first.name, 'replica')).some((s) => s !== 'idle'),
        { timeoutMs: 30_000, what: 'old user idle' },
      );
      await run(renderLoginStatements(loginRevocationStatements(), first));
      const revokedAt = succeeded;
      await eventually(() => succeeded > revokedAt + 60, {
        timeoutMs: 60_000,
        what: 'load served after revocation',
      });
    } finally {
      stop = true;
      await Promise.all(load);
    }
    assert.deepEqual(failures, [], `${failures.length} failed of ${succeeded + failures.length}`);
    assert.deepEqual(await sessionsOf(first.name, 'primary'), []);
    assert.ok(logLines.some((l) => /database credentials changed/.test(l)));

    // The new user serves everything, ingestion included.
    const after = await api.post(`/v1/collections/${collection}/documents`, {
      source: 'after',
      content: '# After\n\nIndexed by the new database user alone.',
    });
    assert.equal(after.status, 202, after.text);
    await eventually(
      async () =>
        (await api.get(`/v1/collections/${collection}/documents/${after.body.document.id}`)).body
          ?.status === 'indexed',
      { what: 'document indexed after the rotation' },
    );

    await service.close();
    service = undefined;

    // Every log line of the run, start to shutdown: no secret in any of them.
    const secrets = [
      first.password,
      second.password,
      new URL(db.migrationUrl).password,
      new URL(db.serviceUrl).password,
    ].filter(Boolean);
    assert.ok(logLines.length > 20, `only ${logLines.length} log lines captured`);
    for (const secret of secrets) {
      const leaks = logLines.filter(
        (l) => l.includes(secret) || l.includes(encodeURIComponent(secret)),
      );
      assert.deepEqual(leaks, [], 'a database password appears in the logs');
    }
  });
});
