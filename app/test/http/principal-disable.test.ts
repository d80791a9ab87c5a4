import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import type { AuditEvent } from '../../src/domain/audit';
import type { RunningService } from '../../src/service';
import { apiClient } from '../support/http-client';
import { createTestPrincipal } from '../support/test-credential';
import { eventually, requireEnv, startTestService } from '../support/test-service';

// Disabling a principal (PATCH /v1/principals/{id}) on two instances of the real service: the
// other instance caches credentials for AUTH_CACHE_TTL_MS = 60 s, longer than any poll here waits,
// so it can only refuse them in time because the access change notice reached it.

async function sql<T>(query: string, params: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: requireEnv('DATABASE_URL') });
  await client.connect();
  try {
    return (await client.query(query, params)).rows as T[];
  } finally {
    await client.end();
  }
}

describe('disabling a principal', function () {
  this.timeout(90_000);
  let here: RunningService;
  let there: RunningService;
  const events: AuditEvent[] = [];

  before(async () => {
    here = await startTestService({}, { audit: { record: async (e) => void events.push(e) } });
    there = await startTestService({ AUTH_CACHE_TTL_MS: '60000' });
  });
  after(async () => {
    await here?.close();
    await there?.close();
  });

  const patch = (url: string, id: string, body: unknown, apiKey?: string) =>
    apiClient(url, apiKey === undefined ? {} : { apiKey }).request(
      'PATCH',
      `/v1/principals/${id}`,
      body,
    );

  it('refuses its keys and tokens on every instance at once, ends its sessions, and is audited', async () => {
    const p = await createTestPrincipal();
    const session = await apiClient(there.url, { apiKey: p.key }).post('/v1/auth/token');
    assert.equal(session.status, 200, session.text);
    const { accessToken, refreshToken } = session.body as {
      accessToken: string;
      refreshToken: string;
    };
    const keyHere = apiClient(here.url, { apiKey: p.key });
    const keyThere = apiClient(there.url, { apiKey: p.key });
    const jwtThere = apiClient(there.url, { apiKey: accessToken });
    // Every credential verified once, so each instance holds it in its cache.
    for (const client of [keyHere, keyThere, jwtThere]) {
      assert.equal((await client.get('/v1/collections')).status, 200);
    }

    const disabled = await patch(here.url, p.id, { disabled: true });
    assert.equal(disabled.status, 200, disabled.text);
    assert.equal(disabled.body.id, p.id);
    assert.equal(disabled.body.disabled, true);
    assert.equal((await keyHere.get('/v1/collections')).status, 401);
    await eventually(async () => (await keyThere.get('/v1/collections')).status === 401, {
      what: 'the other instance refuses the disabled principal’s key',
    });
    await eventually(async () => (await jwtThere.get('/v1/collections')).status === 401, {
      what: 'the other instance refuses the disabled principal’s access token',
    });
    const anonymous = apiClient(there.url, { apiKey: null });
    assert.equal((await anonymous.post('/v1/auth/refresh', { refreshToken })).status, 401);
    const live = await sql<{ n: string }>(
      'SELECT count(*) AS n FROM refresh_tokens WHERE principal_id = $1 AND revoked_at IS NULL',
      [p.id],
    );
    assert.equal(Number(live[0].n), 0, 'a refresh token family of it is still live');

    const audited = events.filter((e) => e.type === 'principal.disabled' && e.target === p.id);
    assert.equal(audited.length, 1);
    assert.deepEqual(
      { ...audited[0].detail },
      {
        principal: p.name,
        refreshFamiliesRevoked: 1,
        accessTokensDenied: 1,
        accessTokensNotDenied: 0,
      },
    );
    assert.ok(audited[0].actor && audited[0].sourceIp && audited[0].requestId);
    assert.ok(!JSON.stringify(events).includes(accessToken.split('.')[2]!));

    // Again: nothing more to do, nothing more recorded.
    assert.equal((await patch(here.url, p.id, { disabled: true })).status, 200);
    assert.equal(events.filter((e) => e.type === 'principal.disabled').length, 1);

    const enabled = await patch(there.url, p.id, { disabled: false });
    assert.equal(enabled.status, 200, enabled.text);
    assert.equal(enabled.body.disabled, false);
    assert.equal((await keyThere.get('/v1/collections')).status, 200);
    await eventually(async () => (await keyHere.get('/v1/collections')).status === 200, {
      what: 'the key works again once enabled',
    });
    // Its ended session stays ended: the access token was denylisted, the refresh family revoked.
    assert.equal((await jwtThere.get('/v1/collections')).status, 401);
    assert.equal((await anonymous.post('/v1/auth/refresh', { refreshToken })).status, 401);
  });

  it('is for super admins only, never oneself, with problems for bad input', async () => {
    const target = await createTestPrincipal();
    const reader = await createTestPrincipal();
    const forbidden = await patch(here.url, target.id, { disabled: true }, reader.key);
    assert.equal(forbidden.status, 403);
    assert.match(forbidden.headers.get('content-type') ?? '', /application\/problem\+json/);
    // A super admin's read-only key does not act as a super admin.
    const capped = await createTestPrincipal({ superAdmin: true, scopes: ['read'] });
    assert.equal((await patch(here.url, target.id, { disabled: true }, capped.key)).status, 403);
    assert.equal(
      (await patch(here.url, target.id, { disabled: true }, null as unknown as string)).status,
      401,
    );

    const self = await createTestPrincipal({ superAdmin: true });
    const refused = await patch(here.url, self.id, { disabled: true }, self.key);
    assert.equal(refused.status, 409, refused.text);
    assert.match(refused.body.detail, /themselves/);
    assert.equal(
      (await apiClient(here.url, { apiKey: self.key }).get('/v1/collections')).status,
      200,
    );

    assert.equal((await patch(here.url, randomUUID(), { disabled: true })).status, 404);
    for (const [id, body] of [
      ['not-a-uuid', { disabled: true }],
      [target.id, { disabled: 'yes' }],
      [target.id, {}],
      [target.id, { disabled: true, superAdmin: true }],
    ] as const) {
      const res = await patch(here.url, id, body);
      assert.equal(res.status, 400, `${id} ${JSON.stringify(body)}: ${res.text}`);
    }
    // Nothing of the above touched it.
    assert.equal(
      (await apiClient(here.url, { apiKey: target.key }).get('/v1/collections')).status,
      200,
    );
  });
});
