import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { RunningService } from '../../src/service';
import { apiClient, type ApiResponse } from '../support/http-client';
import { createTestPrincipal, type TestPrincipal } from '../support/test-credential';
import { eventually, startTestService, uniqueName } from '../support/test-service';

// The whole matrix: every /v1 operation × who calls (no credential, a principal with no role,
// reader, writer, admin of its own collection, super admin) × its own collection or another's,
// against the real service on real Postgres. Another collection's resources must answer exactly
// as a missing collection's do (no way to learn it exists), and nothing of it may change or leak.

type Who = 'anonymous' | 'none' | 'reader' | 'writer' | 'admin' | 'super_admin';
const everyone: Who[] = ['anonymous', 'none', 'reader', 'writer', 'admin', 'super_admin'];
const rank: Record<Who, number> = {
  anonymous: -1,
  none: 0,
  reader: 1,
  writer: 2,
  admin: 3,
  super_admin: 4,
};

interface Case {
  readonly name: string;
  /** The role the operation needs on the collection. */
  readonly needs: 'reader' | 'writer' | 'admin';
  /** Status when allowed. */
  readonly ok: number;
  /** Builds the request (may prepare fresh resources as the super admin first). */
  request(collection: string): Promise<{ method: string; path: string; body?: unknown }>;
}

describe('authorization matrix: endpoint × role × own/other collection', function () {
  this.timeout(180_000);
  let service: RunningService;
  const root = () => apiClient(service.url);
  const callers = new Map<Who, ReturnType<typeof apiClient>>();
  const principals = new Map<Who, TestPrincipal>();
  const own = uniqueName('own');
  const other = uniqueName('other');
  /** A collection that does not exist, its id as long as the other's. */
  const missing = 'm' + 'x'.repeat(other.length - 1);
  let bystander: TestPrincipal;
  let otherDocument: string;
  let otherSnapshot: string;

  async function ingest(collection: string, source = uniqueName('doc')): Promise<string> {
    const res = await root().post(`/v1/collections/${collection}/documents`, {
      source,
      content: `# ${source}\n\nSecret plans of ${collection}: the quarterly numbers.`,
    });
    assert.equal(res.status, 202, res.text);
    const id: string = res.body.document.id;
    await eventually(
      async () =>
        (await root().get(`/v1/collections/${collection}/documents/${id}`)).status === 200,
      { what: `document ${id} readable` },
    );
    return id;
  }

  /** A document of the collection: the other's, a made-up one for a missing, a fresh one of ours. */
  async function documentOf(collection: string): Promise<string> {
    if (collection === other) return otherDocument;
    if (collection === missing) return randomUUID();
    return ingest(collection);
  }

  async function snapshot(collection: string): Promise<string> {
    const api = root();
    const [c, docs, members] = await Promise.all([
      api.get(`/v1/collections/${collection}`),
      api.get(`/v1/collections/${collection}/documents?limit=100`),
      api.get(`/v1/collections/${collection}/members`),
    ]);
    const stable = (docs.body.items as any[]).map((d) => ({ id: d.id, hash: d.contentHash }));
    return JSON.stringify({
      c: { ...c.body, indexVersion: undefined },
      docs: stable,
      members: members.body,
    });
  }

  async function grant(collection: string, principalId: string, role: string) {
    const res = await root().post(`/v1/collections/${collection}/members`, { principalId, role });
    assert.equal(res.status, 204, res.text);
  }

  before(async () => {
    service = await startTestService();
    callers.set('anonymous', apiClient(service.url, { apiKey: null }));
    for (const who of ['none', 'reader', 'writer', 'admin', 'super_admin'] as const) {
      const p = await createTestPrincipal({ superAdmin: who === 'super_admin' });
      principals.set(who, p);
      callers.set(who, apiClient(service.url, { apiKey: p.key }));
    }
    bystander = await createTestPrincipal();
    for (const c of [own, other]) {
      assert.equal((await root().post('/v1/collections', { id: c, description: c })).status, 201);
    }
    for (const who of ['reader', 'writer', 'admin'] as const) {
      await grant(own, principals.get(who)!.id, who);
    }
    await grant(other, bystander.id, 'reader');
    otherDocument = await ingest(other, 'other.md');
    otherSnapshot = await snapshot(other);
  });
  after(() => service?.close());

  const cases: Case[] = [
    {
      name: 'GET /v1/collections/{id}',
      needs: 'reader',
      ok: 200,
      request: async (c) => ({ method: 'GET', path: `/v1/collections/${c}` }),
    },
    {
      name: 'GET /v1/collections/{id}/documents',
      needs: 'reader',
      ok: 200,
      request: async (c) => ({ method: 'GET', path: `/v1/collections/${c}/documents` }),
    },
    {
      name: 'GET /v1/collections/{id}/documents/{doc}',
      needs: 'reader',
      ok: 200,
      request: async (c) => ({
        method: 'GET',
        path: `/v1/collections/${c}/documents/${await documentOf(c)}`,
      }),
    },
    {
      name: 'POST /v1/query',
      needs: 'reader',
      ok: 200,
      request: async (c) => ({
        method: 'POST',
        path: '/v1/query',
        body: { collection: c, query: 'What are the quarterly numbers?' },
      }),
    },
    {
      name: 'POST /v1/collections/{id}/documents',
      needs: 'writer',
      ok: 202,
      request: async (c) => ({
        method: 'POST',
        path: `/v1/collections/${c}/documents`,
        body: { source: uniqueName('new'), content: 'injected text' },
      }),
    },
    {
      name: 'POST /v1/collections/{id}/documents/{doc}/retry',
      needs: 'writer',
      // Authorized, then refused for its state: the document is not dead-lettered.
      ok: 409,
      request: async (c) => ({
        method: 'POST',
        path: `/v1/collections/${c}/documents/${await documentOf(c)}/retry`,
      }),
    },
    {
      name: 'DELETE /v1/collections/{id}/documents/{doc}',
      needs: 'writer',
      ok: 204,
      request: async (c) => ({
        method: 'DELETE',
        path: `/v1/collections/${c}/documents/${await documentOf(c)}`,
      }),
    },
    {
      name: 'GET /v1/collections/{id}/members',
      needs: 'admin',
      ok: 200,
      request: async (c) => ({ method: 'GET', path: `/v1/collections/${c}/members` }),
    },
    {
      name: 'POST /v1/collections/{id}/members',
      needs: 'admin',
      ok: 204,
      request: async (c) => ({
        method: 'POST',
        path: `/v1/collections/${c}/members`,
        body: {
          principalId:
            c === other || c === missing ? bystander.id : (await createTestPrincipal()).id,
          role: 'admin',
        },
      }),
    },
    {
      name: 'DELETE /v1/collections/{id}/members/{principal}',
      needs: 'admin',
      ok: 204,
      request: async (c) => {
        if (c === other || c === missing) {
          return { method: 'DELETE', path: `/v1/collections/${c}/members/${bystander.id}` };
        }
        const target = await createTestPrincipal();
        await grant(c, target.id, 'reader');
        return { method: 'DELETE', path: `/v1/collections/${c}/members/${target.id}` };
      },
    },
    {
      name: 'DELETE /v1/collections/{id}',
      needs: 'admin',
      ok: 204,
      // The own side deletes a fresh collection of its own; the other side tries the shared one.
      request: async (c) => ({ method: 'DELETE', path: `/v1/collections/${c}` }),
    },
  ];

  /** The operations the tests of 'operations outside any collection' walk. */
  const outsideCollections = [
    'GET /v1/collections',
    'POST /v1/collections',
    'POST /v1/api-keys',
    'GET /v1/api-keys',
    'DELETE /v1/api-keys/{keyId}',
    'POST /v1/principals',
    'PATCH /v1/principals/{principalId}',
    'POST /v1/auth/token',
    'POST /v1/auth/refresh',
    'POST /v1/auth/revoke',
  ];

  /** The problem a missing collection gets, with its id blanked, for comparison. */
  async function missingProblem(who: Who, build: Case['request']) {
    const req = await build(missing);
    const res = await callers.get(who)!.request(req.method, req.path, req.body);
    return { status: res.status, body: blank(res.text, missing) };
  }

  function blank(text: string, id: string): string {
    return text.split(id).join('<id>');
  }

  for (const test of cases) {
    describe(test.name, () => {
      for (const who of everyone) {
        const allowed = who === 'super_admin' || rank[who] >= rank[test.needs];
        const ownStatus =
          who === 'anonymous' ? 401 : allowed ? test.ok : who === 'none' ? 404 : 403;
        it(`${who} on its own collection: ${ownStatus}`, async () => {
          let collection = own;
          if (test.name === 'DELETE /v1/collections/{id}') {
            collection = uniqueName('doomed');
            assert.equal((await root().post('/v1/collections', { id: collection })).status, 201);
            if (who !== 'super_admin' && who !== 'none' && who !== 'anonymous') {
              await grant(collection, principals.get(who)!.id, who);
            }
          }
          const req = await test.request(collection);
          const res = await callers.get(who)!.request(req.method, req.path, req.body);
          assert.equal(res.status, ownStatus, `${req.method} ${req.path}: ${res.text}`);
          if (res.status === 401)
            assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer/);
        });

        const otherStatus = who === 'anonymous' ? 401 : who === 'super_admin' ? test.ok : 404;
        if (who === 'super_admin') continue; // would change the other collection on purpose
        it(`${who} on another collection: ${otherStatus}, exactly like a missing one`, async () => {
          const req = await test.request(other);
          const res = await callers.get(who)!.request(req.method, req.path, req.body);
          assert.equal(res.status, otherStatus, `${req.method} ${req.path}: ${res.text}`);
          assert.doesNotMatch(res.text, /quarterly|Secret plans/);
          // The problem's `instance` echoes the path the caller sent; nothing else may name it.
          const answered = res.text.split(req.path).join('');
          assert.ok(!answered.includes(otherDocument), 'the other document id leaked');
          if (who !== 'anonymous') {
            const absent = await missingProblem(who, test.request);
            assert.equal(res.status, absent.status);
            const uuid = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
            assert.equal(
              blank(res.text, other).replace(uuid, '<uuid>'),
              absent.body.replace(uuid, '<uuid>'),
            );
          }
          assert.equal(await snapshot(other), otherSnapshot, 'the other collection changed');
        });
      }
    });
  }

  describe('operations outside any collection', () => {
    it('GET /v1/collections lists only collections the caller holds a role on', async () => {
      const list = async (who: Who) => {
        const res: ApiResponse = await callers.get(who)!.get('/v1/collections?limit=100');
        return res;
      };
      assert.equal((await list('anonymous')).status, 401);
      for (const who of ['none', 'reader', 'writer', 'admin'] as const) {
        const res = await list(who);
        assert.equal(res.status, 200);
        const ids = (res.body.items as any[]).map((c) => c.id);
        assert.ok(!ids.includes(other), `${who} sees ${other}`);
        if (who !== 'none') assert.ok(ids.includes(own), `${who} does not see ${own}`);
      }
      const all = async (cursor?: string): Promise<string[]> => {
        const res = await callers
          .get('super_admin')!
          .get(`/v1/collections?limit=100${cursor ? `&cursor=${cursor}` : ''}`);
        const ids = (res.body.items as any[]).map((c) => c.id);
        return res.body.nextCursor ? [...ids, ...(await all(res.body.nextCursor))] : ids;
      };
      const ids = await all();
      assert.ok(ids.includes(own) && ids.includes(other));
    });

    it('POST /v1/collections: any authenticated writer-scoped credential; its creator becomes admin', async () => {
      assert.equal(
        (await callers.get('anonymous')!.post('/v1/collections', { id: uniqueName('a') })).status,
        401,
      );
      const mine = uniqueName('mine');
      const created = await callers.get('none')!.post('/v1/collections', { id: mine });
      assert.equal(created.status, 201);
      assert.equal((await callers.get('none')!.get(`/v1/collections/${mine}/members`)).status, 200);
      const readOnly = await createTestPrincipal({ scopes: ['read'] });
      const refused = await apiClient(service.url, { apiKey: readOnly.key }).post(
        '/v1/collections',
        {
          id: uniqueName('ro'),
        },
      );
      assert.equal(refused.status, 403);
    });

    it("a key's scope caps its principal's role: an admin's read key only reads", async () => {
      const admin = principals.get('admin')!;
      const minted = await callers.get('admin')!.post('/v1/api-keys', { scopes: ['read'] });
      assert.equal(minted.status, 201, minted.text);
      const readKey = apiClient(service.url, { apiKey: minted.body.key });
      assert.equal((await readKey.get(`/v1/collections/${own}`)).status, 200);
      const ingest = await readKey.post(`/v1/collections/${own}/documents`, {
        source: 'x',
        content: 'y',
      });
      assert.equal(ingest.status, 403);
      assert.equal(minted.body.apiKey.principalId, admin.id);
      // Nor can a read key mint itself a stronger one.
      const escalate = await readKey.post('/v1/api-keys', { scopes: ['admin'] });
      assert.equal(escalate.status, 403);
    });

    it("API keys: own keys only, a super admin for anyone; another principal's key is a 404", async () => {
      const reader = callers.get('reader')!;
      const mine = await reader.post('/v1/api-keys', { name: 'laptop' });
      assert.equal(mine.status, 201);
      assert.match(mine.body.key, /^rag_[0-9a-f]{12}_/);
      const listed = await reader.get('/v1/api-keys');
      assert.equal(listed.status, 200);
      assert.ok(listed.body.items.some((k: any) => k.id === mine.body.apiKey.id));
      assert.ok(
        !JSON.stringify(listed.body).includes(mine.body.key),
        'a listed key shows its secret',
      );
      const writer = callers.get('writer')!;
      assert.equal((await writer.delete(`/v1/api-keys/${mine.body.apiKey.id}`)).status, 404);
      assert.equal(
        (await writer.get(`/v1/api-keys?principalId=${principals.get('reader')!.id}`)).status,
        404,
      );
      assert.equal(
        (await writer.post('/v1/api-keys', { principalId: principals.get('reader')!.id })).status,
        403,
      );
      const forReader = await callers
        .get('super_admin')!
        .post('/v1/api-keys', { principalId: principals.get('reader')!.id, scopes: ['read'] });
      assert.equal(forReader.status, 201);
      assert.equal(
        (await callers.get('super_admin')!.delete(`/v1/api-keys/${forReader.body.apiKey.id}`))
          .status,
        204,
      );
      assert.equal((await reader.delete(`/v1/api-keys/${mine.body.apiKey.id}`)).status, 204);
      assert.equal(
        (await apiClient(service.url, { apiKey: mine.body.key }).get('/v1/collections')).status,
        401,
      );
    });

    it('POST /v1/principals: super admins only', async () => {
      for (const who of ['none', 'reader', 'writer', 'admin'] as const) {
        const res = await callers.get(who)!.post('/v1/principals', { name: uniqueName('p') });
        assert.equal(res.status, 403, who);
      }
      assert.equal(
        (await callers.get('anonymous')!.post('/v1/principals', { name: uniqueName('p') })).status,
        401,
      );
      const created = await callers
        .get('super_admin')!
        .post('/v1/principals', { name: uniqueName('p') });
      assert.equal(created.status, 201, created.text);
    });

    it('PATCH /v1/principals/{id}: super admins only; a refusal changes nothing', async () => {
      const target = await createTestPrincipal();
      const asTarget = apiClient(service.url, { apiKey: target.key });
      for (const who of ['anonymous', 'none', 'reader', 'writer', 'admin'] as const) {
        const res = await callers
          .get(who)!
          .request('PATCH', `/v1/principals/${target.id}`, { disabled: true });
        assert.equal(res.status, who === 'anonymous' ? 401 : 403, `${who}: ${res.text}`);
      }
      // Not even on itself: only a super admin disables, and never itself.
      const self = await asTarget.request('PATCH', `/v1/principals/${target.id}`, {
        disabled: true,
      });
      assert.equal(self.status, 403);
      assert.equal((await asTarget.get('/v1/collections')).status, 200);
      const superAdmin = callers.get('super_admin')!;
      const disabled = await superAdmin.request('PATCH', `/v1/principals/${target.id}`, {
        disabled: true,
      });
      assert.equal(disabled.status, 200, disabled.text);
      assert.equal((await asTarget.get('/v1/collections')).status, 401);
      const ownId = principals.get('super_admin')!.id;
      assert.equal(
        (await superAdmin.request('PATCH', `/v1/principals/${ownId}`, { disabled: true })).status,
        409,
      );
      const enabled = await superAdmin.request('PATCH', `/v1/principals/${target.id}`, {
        disabled: false,
      });
      assert.equal(enabled.status, 200, enabled.text);
      assert.equal((await asTarget.get('/v1/collections')).status, 200);
    });

    it('token endpoints: any principal, for itself only; the refresh is public', async () => {
      const anonymous = callers.get('anonymous')!;
      assert.equal((await anonymous.post('/v1/auth/token')).status, 401);
      assert.equal((await anonymous.post('/v1/auth/revoke', {})).status, 401);
      for (const who of ['none', 'reader', 'writer', 'admin', 'super_admin'] as const) {
        const issued = await callers.get(who)!.post('/v1/auth/token');
        assert.equal(issued.status, 200, `${who}: ${issued.text}`);
        const refreshed = await anonymous.post('/v1/auth/refresh', {
          refreshToken: issued.body.refreshToken,
        });
        assert.equal(refreshed.status, 200, `${who}: ${refreshed.text}`);
        const asJwt = apiClient(service.url, { apiKey: refreshed.body.accessToken });
        assert.equal((await asJwt.post('/v1/auth/revoke', {})).status, 204);
        assert.equal((await asJwt.get('/v1/collections')).status, 401);
      }
      // Someone else's token is left alone (RFC 7009: no error, nothing revoked).
      const readers = await callers.get('reader')!.post('/v1/auth/token');
      assert.equal(
        (await callers.get('writer')!.post('/v1/auth/revoke', { token: readers.body.accessToken }))
          .status,
        204,
      );
      const asReader = apiClient(service.url, { apiKey: readers.body.accessToken });
      assert.equal((await asReader.get(`/v1/collections/${own}`)).status, 200);
    });

    it('covers every /v1 operation of the OpenAPI document', async () => {
      const doc = await callers.get('anonymous')!.get('/openapi.json');
      const operations = Object.entries(doc.body.paths as Record<string, object>)
        .filter(([path]) => path.startsWith('/v1/'))
        .flatMap(([path, methods]) =>
          Object.keys(methods).map((m) => `${m.toUpperCase()} ${path.replace(/\{\w+\}/g, '{}')}`),
        );
      const covered = new Set(
        [...cases.map((c) => c.name), ...outsideCollections].map((n) =>
          n.replace(/\{\w+\}/g, '{}'),
        ),
      );
      assert.deepEqual(
        operations.filter((o) => !covered.has(o)),
        [],
        'operations the matrix does not walk',
      );
    });

    it('the other collection is unchanged after the whole matrix', async () => {
      assert.equal(await snapshot(other), otherSnapshot);
    });
  });
});
