import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { Client } from 'pg';
import type { AuditEvent } from '../../src/domain/audit';
import type { Principal } from '../../src/domain/principal';
import type { RunningService } from '../../src/service';
import { apiClient } from '../support/http-client';
import { createTestPrincipal, superAdminKey } from '../support/test-credential';
import { eventually, requireEnv, startTestService } from '../support/test-service';

// Authentication on every /v1 route, on the real service: which credentials pass, that every
// failure looks the same from outside, that keys are stored only as keyed hashes, that a revoked
// key stops working (at once here, on its access change notice on another instance), and that failures
// are audited at a bounded rate with no secret in any event or log line.

async function sql<T>(query: string, params: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: requireEnv('DATABASE_URL') });
  await client.connect();
  try {
    return (await client.query(query, params)).rows as T[];
  } finally {
    await client.end();
  }
}

describe('authentication of /v1', function () {
  this.timeout(90_000);
  let service: RunningService;
  const events: AuditEvent[] = [];
  let logs = '';
  /** A stand-in JWT verifier: the real one (security/jwt/) plugs in through the same interface. */
  const tokens = new Map<string, Principal>();

  before(async () => {
    service = await startTestService(
      { AUTH_FAILURE_AUDIT_PER_MINUTE: '5', LOG_LEVEL: 'debug' },
      {
        audit: { record: async (event) => void events.push(event) },
        bearer: { verify: async (token) => tokens.get(token) },
        logDestination: new Writable({
          write(chunk, _encoding, done) {
            logs += String(chunk);
            done();
          },
        }),
      },
    );
  });
  after(() => service?.close());

  const anonymous = () => apiClient(service.url, { apiKey: null });

  it('keeps /healthz, /readyz, /openapi.json and /docs public', async () => {
    for (const path of ['/healthz', '/readyz', '/openapi.json', '/docs/']) {
      assert.equal((await anonymous().get(path)).status, 200, path);
    }
  });

  it('refuses every /v1 request without a valid credential the same way: 401, WWW-Authenticate', async () => {
    const p = await createTestPrincipal();
    const [, prefix] = /^rag_([0-9a-f]{12})_/.exec(p.key)!;
    const wrongSecret = `rag_${prefix}_${'A'.repeat(43)}`;
    const unknown = `rag_${'0'.repeat(12)}_${'A'.repeat(43)}`;
    const answers = [];
    for (const headers of [
      {},
      { authorization: `Bearer ${wrongSecret}` },
      { authorization: `Bearer ${unknown}` },
      { authorization: 'Bearer not-a-key' },
      { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` },
      { 'x-api-key': wrongSecret },
      { authorization: `Bearer ${p.key}`, 'x-api-key': unknown },
      { authorization: `Bearer ${'x'.repeat(5000)}` },
    ] as Record<string, string>[]) {
      for (const path of ['/v1/collections', '/v1/nothing-here', '/v1/query']) {
        const res = await anonymous().request('GET', path, undefined, { headers });
        assert.equal(res.status, 401, `${JSON.stringify(headers)} ${path}`);
        assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/);
        assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer realm="rag-platform"/);
        answers.push(JSON.stringify({ ...res.body, instance: undefined }));
      }
    }
    assert.equal(new Set(answers).size, 1, 'every failure answers the same body');
  });

  it('accepts an API key as a bearer token or in X-API-Key, and an accepted bearer token', async () => {
    const p = await createTestPrincipal();
    assert.equal(
      (await apiClient(service.url, { apiKey: p.key }).get('/v1/collections')).status,
      200,
    );
    const viaHeader = await anonymous().request('GET', '/v1/collections', undefined, {
      headers: { 'x-api-key': p.key },
    });
    assert.equal(viaHeader.status, 200);
    tokens.set('header.payload.signature', {
      id: p.id,
      superAdmin: false,
      roles: {},
      tier: 'standard',
      credential: { kind: 'jwt', id: 'jti-1' },
    });
    const jwt = await anonymous().request('GET', '/v1/collections', undefined, {
      headers: { authorization: 'Bearer header.payload.signature' },
    });
    assert.equal(jwt.status, 200);
    const refused = await anonymous().request('GET', '/v1/collections', undefined, {
      headers: { authorization: 'Bearer other.payload.signature' },
    });
    assert.equal(refused.status, 401);
  });

  it('stores a key only as its HMAC under the pepper, and records its last use', async () => {
    const api = apiClient(service.url);
    const created = await api.post('/v1/api-keys', { name: 'stored', scopes: ['read'] });
    assert.equal(created.status, 201);
    assert.equal(created.headers.get('cache-control'), 'no-store');
    const key: string = created.body.key;
    const [row] = await sql<Record<string, unknown>>('SELECT * FROM api_keys WHERE id = $1', [
      created.body.apiKey.id,
    ]);
    const stored = JSON.stringify(row) + (row.hash as Buffer).toString('latin1');
    assert.ok(!stored.includes(key.split('_')[2]), 'the secret is stored');
    assert.equal((row.hash as Buffer).length, 32);
    assert.equal(row.last_used_at, null);
    assert.equal((await apiClient(service.url, { apiKey: key }).get('/v1/api-keys')).status, 200);
    await eventually(
      async () =>
        (
          await sql<{ last_used_at: Date | null }>(
            'SELECT last_used_at FROM api_keys WHERE id = $1',
            [created.body.apiKey.id],
          )
        )[0].last_used_at !== null,
      { what: 'last_used_at recorded' },
    );
  });

  it('refuses an expired key', async () => {
    const api = apiClient(service.url);
    const created = await api.post('/v1/api-keys', { expiresInDays: 1 });
    assert.equal(created.status, 201);
    assert.ok(new Date(created.body.apiKey.expiresAt).getTime() > Date.now());
    const client = apiClient(service.url, { apiKey: created.body.key });
    assert.equal((await client.get('/v1/collections')).status, 200);
    await sql("UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = $1", [
      created.body.apiKey.id,
    ]);
    // Seen once the cached entry is read again (AUTH_CACHE_TTL_MS).
    await eventually(async () => (await client.get('/v1/collections')).status === 401, {
      what: 'the key expired',
    });
    assert.equal((await api.post('/v1/api-keys', { expiresInDays: 0 })).status, 400);
  });

  it('a revoked key stops working at once on this instance, and on another as soon as the revocation commits', async () => {
    // 60 s of cache there, four times what the poll below waits: only the notice can refuse in time.
    const other = await startTestService({ AUTH_CACHE_TTL_MS: '60000' });
    try {
      const created = await apiClient(service.url).post('/v1/api-keys', { name: 'revoked' });
      const here = apiClient(service.url, { apiKey: created.body.key });
      const there = apiClient(other.url, { apiKey: created.body.key });
      assert.equal((await here.get('/v1/collections')).status, 200);
      assert.equal((await there.get('/v1/collections')).status, 200);
      assert.equal((await here.delete(`/v1/api-keys/${created.body.apiKey.id}`)).status, 204);
      assert.equal((await here.get('/v1/collections')).status, 401);
      await eventually(async () => (await there.get('/v1/collections')).status === 401, {
        what: 'the other instance refuses the revoked key',
      });
    } finally {
      await other.close();
    }
  });

  it('audits failures at a bounded rate, with no secret in any event or log line', async () => {
    const key = await superAdminKey();
    const attempt = `rag_${'1'.repeat(12)}_${'S'.repeat(43)}`;
    const before = events.filter((e) => e.type === 'authentication.failed').length;
    for (let i = 0; i < 20; i++) {
      await anonymous().request('GET', '/v1/collections', undefined, {
        headers: { authorization: `Bearer ${attempt}` },
      });
    }
    const failed = events.filter((e) => e.type === 'authentication.failed');
    assert.ok(failed.length - before <= 5, `${failed.length - before} events for 20 failures`);
    assert.ok(failed.length >= 1);
    assert.ok(failed.every((e) => e.actor === null && e.sourceIp));
    const everything = JSON.stringify(events) + logs;
    for (const secret of [attempt, key, attempt.slice(17), key.slice(17)]) {
      assert.ok(!everything.includes(secret), 'a credential reached an audit event or a log line');
    }
    // The collection and key events of the other tests were recorded too.
    assert.ok(events.some((e) => e.type === 'api_key.created'));
    assert.ok(events.some((e) => e.type === 'api_key.revoked'));
    assert.ok(logs.length > 0);
  });
});
