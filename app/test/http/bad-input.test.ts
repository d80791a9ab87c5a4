import assert from 'node:assert/strict';
import {
  createHmac,
  createPublicKey,
  generateKeyPairSync,
  sign,
  type JsonWebKey,
} from 'node:crypto';
import fc from 'fast-check';
import knex, { type Knex } from 'knex';
import type { RunningService } from '../../src/service';
import { apiClient, type ApiResponse } from '../support/http-client';
import {
  fragment,
  hostileHeaders,
  hostileRequests,
  json,
  sqlFragments,
} from '../support/hostile-input';
import { rawRequest, type RawRequest, type RawResponse } from '../support/raw-http';
import { metricValue } from '../stores/postgres/test-database';
import { eventually, requireEnv, startTestService, uniqueName } from '../support/test-service';
import { authHeaders } from '../support/test-credential';

function assertProblem(res: ApiResponse, status: number, type?: string) {
  assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${res.text}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
  assert.equal(res.body.status, status);
  assert.equal(typeof res.body.title, 'string');
  if (type) assert.equal(res.body.type, `urn:rag-platform:problem:${type}`);
  assert.doesNotMatch(res.text, /\bat .*\.(ts|js):\d+/, 'no stack trace in a problem body');
}

/**
 * What every hostile request's answer must satisfy: no 5xx (in any response on the connection),
 * no header the caller smuggled in, a problem body for an error the service (not Node's parser)
 * answered; and an answer at all, unless the headers were too large to be read.
 */
function assertSurvived(req: RawRequest, res: RawResponse): void {
  const headerBytes = (req.headers ?? []).reduce((n, [k, v]) => n + k.length + v.length, 0);
  const what = `${req.method} ${JSON.stringify(req.path)} → ${res.text.slice(0, 300)}`;
  // Node refuses headers over 16 KiB while they are still arriving, and may reset the
  // connection before its 431 is read.
  if (res.status === undefined) assert.ok(headerBytes > 16 * 1024, what);
  assert.doesNotMatch(res.text, /^HTTP\/1\.[01] 5\d\d/m, what);
  assert.doesNotMatch(res.text, /^(set-cookie: pwned|x-injected:)/im, what);
  if (res.status !== undefined && res.status >= 400 && res.headers.has('x-request-id'))
    assert.match(res.headers.get('content-type') ?? '', /problem\+json/, what);
}

describe('bad input gets a 4xx problem+json, never a 5xx', function () {
  this.timeout(120_000);
  let service: RunningService;
  let api: ReturnType<typeof apiClient>;
  const collection = uniqueName('bad');
  const maxDocumentBytes = 4096;

  before(async () => {
    service = await startTestService({ MAX_DOCUMENT_BYTES: String(maxDocumentBytes) });
    api = apiClient(service.url);
    assert.equal((await api.post('/v1/collections', { id: collection })).status, 201);
    // Reads come from the replica: wait until it has the new collection.
    await eventually(async () => (await api.get(`/v1/collections/${collection}`)).status === 200);
  });
  after(async () => {
    await api?.delete(`/v1/collections/${collection}`);
    await service?.close();
  });

  const docs = () => `/v1/collections/${collection}/documents`;

  it('malformed JSON', async () => {
    const res = await api.request('POST', '/v1/query', undefined, {
      headers: { 'content-type': 'application/json' },
      rawBody: '{"collection": ',
    });
    assertProblem(res, 400, 'malformed-json');
  });

  it('wrong content type', async () => {
    const res = await api.request('POST', '/v1/query', undefined, {
      headers: { 'content-type': 'text/plain' },
      rawBody: 'collection=x',
    });
    assertProblem(res, 415, 'unsupported-media-type');
  });

  it('oversize document and oversize body', async () => {
    const content = 'x'.repeat(maxDocumentBytes + 1);
    assertProblem(await api.post(docs(), { content }), 413, 'document-too-large');
    const huge = 'y'.repeat(maxDocumentBytes * 3 + 128 * 1024);
    assertProblem(await api.post(docs(), { content: huge }), 413, 'payload-too-large');
  });

  it('unknown fields and wrong types, with the offending path named', async () => {
    const unknown = await api.post('/v1/query', { collection, query: 'x', extra: true });
    assertProblem(unknown, 400, 'validation-error');
    assert.ok(unknown.body.errors.some((e: { path: string }) => e.path.startsWith('body')));
    const wrongType = await api.post('/v1/query', { collection, query: 42 });
    assertProblem(wrongType, 400, 'validation-error');
    assert.ok(wrongType.body.errors.some((e: { path: string }) => e.path === 'body.query'));
    assertProblem(
      await api.post('/v1/collections', { id: 'Not A Slug!' }),
      400,
      'validation-error',
    );
    assertProblem(await api.post(docs(), { content: 'ok', mediaType: 'application/pdf' }), 400);
    assertProblem(await api.get(`${docs()}?limit=0`), 400);
    assertProblem(await api.get(`${docs()}?status=bogus`), 400);
    assertProblem(await api.get(`${docs()}?cursor=not-a-cursor`), 400);
    assertProblem(await api.post('/v1/query', { collection, query: '\u00a0\ufeff\u2028' }), 400);
  });

  it('empty or huge query, topK out of range', async () => {
    assertProblem(await api.post('/v1/query', { collection, query: '   ' }), 400);
    assertProblem(await api.post('/v1/query', { collection, query: 'q'.repeat(2001) }), 400);
    assertProblem(await api.post('/v1/query', { collection, query: 'q', topK: 0 }), 400);
    assertProblem(await api.post('/v1/query', { collection, query: 'q', topK: 51 }), 400);
    assertProblem(await api.post('/v1/query', { collection, query: 'q', topK: 2.5 }), 400);
  });

  it('unknown collection, unknown route and invalid ids', async () => {
    assertProblem(
      await api.post('/v1/query', { collection: 'no-such-collection', query: 'q' }),
      404,
      'not-found',
    );
    assertProblem(await api.get('/v1/collections/no-such-collection'), 404);
    assertProblem(await api.get(`${docs()}/not-a-uuid`), 400, 'validation-error');
    assertProblem(await api.get(`${docs()}/6f1d8d7b-0c11-4cf4-9a59-0b3f4b8e2f7a`), 404);
    assertProblem(await api.get('/v2/nothing'), 404);
    assertProblem(await api.request('PUT', '/v2/nothing'), 404);
  });

  it('undeclared methods on known paths: 405 with Allow', async () => {
    const cases: [string, string, string][] = [
      ['PUT', '/v1/query', 'POST'],
      ['GET', '/v1/query', 'POST'],
      ['PATCH', '/v1/collections', 'GET, HEAD, POST'],
      ['POST', `/v1/collections/${collection}`, 'DELETE, GET, HEAD'],
      ['PUT', `${docs()}/6f1d8d7b-0c11-4cf4-9a59-0b3f4b8e2f7a`, 'DELETE, GET, HEAD'],
      ['GET', `${docs()}/6f1d8d7b-0c11-4cf4-9a59-0b3f4b8e2f7a/retry`, 'POST'],
    ];
    for (const [method, path, allow] of cases) {
      const res = await api.request(method, path);
      assertProblem(res, 405, 'method-not-allowed');
      assert.equal(res.headers.get('allow'), allow, `${method} ${path}`);
    }
  });

  // JavaScript gives these names a meaning on every object: `__proto__` was silently dropped from
  // stored metadata, and a filter on it was ignored, returning unfiltered results.
  it('reserved metadata keys are refused, in documents and in filters', async () => {
    for (const key of ['__proto__', 'constructor', 'prototype']) {
      // Raw JSON: an object literal with a `__proto__` key would set the prototype instead.
      const metadata = `{"team":"sre",${JSON.stringify(key)}:"x"}`;
      const ingest = await api.request('POST', docs(), undefined, {
        headers: { 'content-type': 'application/json' },
        rawBody: `{"content":"ok","metadata":${metadata}}`,
      });
      assertProblem(ingest, 400, 'validation-error');
      assert.ok(
        ingest.body.errors.some((e: { path: string }) => e.path === `body.metadata.${key}`),
        ingest.text,
      );
      const query = await api.request('POST', '/v1/query', undefined, {
        headers: { 'content-type': 'application/json' },
        rawBody: `{"collection":"${collection}","query":"q","filter":{"metadata":${metadata}}}`,
      });
      assertProblem(query, 400, 'validation-error');
    }
  });

  it('cursors: any value of the documented shape is a page, anything else a 400', async () => {
    assertProblem(await api.get(`${docs()}?cursor=abc`), 400, 'validation-error');
    assertProblem(await api.get(`${docs()}?cursor=${'9'.repeat(19)}`), 400, 'validation-error');
    assert.equal((await api.get(`${docs()}?cursor=${'9'.repeat(18)}`)).status, 200);
    assert.equal((await api.get(`${docs()}?cursor=0`)).status, 200);
    assertProblem(await api.get('/v1/collections?cursor=Not%20an%20id'), 400, 'validation-error');
    const after = await api.get('/v1/collections?cursor=zzzz-no-such-collection');
    assert.equal(after.status, 200);
    assert.deepEqual(after.body.items, []);
  });

  // Postgres text and jsonb cannot hold U+0000 and seq is a bigint: values the database would
  // reject must be refused at the edge, not surface as a driver error (a 500).
  it('text with NUL characters and cursors past the key range', async () => {
    const nul = 'a\u0000b';
    assertProblem(await api.post(docs(), { content: nul }), 400, 'validation-error');
    assertProblem(await api.post(docs(), { content: 'ok', source: nul }), 400, 'validation-error');
    assertProblem(await api.post(docs(), { content: 'ok', title: nul }), 400, 'validation-error');
    assertProblem(
      await api.post(docs(), { content: 'ok', metadata: { team: nul } }),
      400,
      'validation-error',
    );
    assertProblem(
      await api.post('/v1/collections', { id: uniqueName('nul'), description: nul }),
      400,
      'validation-error',
    );
    assertProblem(await api.get(`${docs()}?cursor=${'9'.repeat(19)}`), 400);
    assertProblem(await api.get(`/v1/collections?cursor=a%00b`), 400);
  });

  // Generated garbage at every endpoint: bodies of any JSON shape (and some non-JSON), odd path
  // segments and query strings. The property is only "4xx or a success, never 5xx, never a crash".
  it('survives generated garbage on every endpoint', async () => {
    const segment = fc.oneof(
      // Mostly the real collection, so generated bodies get past the 404 to the validation and
      // storage behind it.
      { arbitrary: fc.constant(collection), weight: 6 },
      fc.string({ maxLength: 80 }).map(encodeURIComponent),
      fc.uuid(),
      fc.constantFrom('..', '%00', '%ZZ', 'a'.repeat(300), '%F0%9F%92%A9', 'null'),
    );
    const endpoint = fc.oneof(
      fc.tuple(fc.constant('POST'), fc.constant('/v1/query')),
      fc.tuple(fc.constant('POST'), fc.constant('/v1/collections')),
      fc.tuple(fc.constant('GET'), fc.constant('/v1/collections')),
      segment.map((c) => ['GET', `/v1/collections/${c}`] as const),
      segment.map((c) => ['DELETE', `/v1/collections/${c}x`] as const),
      segment.map((c) => ['POST', `/v1/collections/${c}/documents`] as const),
      segment.map((c) => ['GET', `/v1/collections/${c}/documents`] as const),
      fc
        .tuple(segment, segment)
        .map(([c, d]) => ['GET', `/v1/collections/${c}/documents/${d}`] as const),
      fc
        .tuple(segment, segment)
        .map(([c, d]) => ['DELETE', `/v1/collections/${c}/documents/${d}`] as const),
      fc
        .tuple(segment, segment)
        .map(([c, d]) => ['POST', `/v1/collections/${c}/documents/${d}/retry`] as const),
    );
    const query = fc.option(
      fc.dictionary(
        fc.constantFrom('limit', 'cursor', 'status', 'x', 'limit[]'),
        fc.string({ unit: 'binary-ascii', maxLength: 40 }),
      ),
    );
    const body = fc.oneof(
      fc
        .jsonValue({ maxDepth: 4 })
        .map((v) => ({ raw: JSON.stringify(v), type: 'application/json' })),
      fc
        .record({
          collection: fc.oneof(fc.constant(collection), fc.string()),
          query: fc.oneof(fc.string({ maxLength: 3000 }), fc.integer(), fc.constant(null)),
          topK: fc.oneof(fc.integer(), fc.double(), fc.string()),
          filter: fc.anything({ maxDepth: 3 }),
        })
        .map((v) => ({ raw: JSON.stringify(v), type: 'application/json' })),
      {
        // Mostly well-formed documents whose strings may hold any ASCII, control characters
        // included (the default unit is printable only), so they reach the database.
        weight: 3,
        arbitrary: fc
          .record(
            {
              content: fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 500 }),
              source: fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 40 }),
              title: fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 40 }),
              metadata: fc.oneof(
                fc.dictionary(
                  fc.stringMatching(/^[a-z]{1,8}$/),
                  fc.string({ unit: 'binary-ascii', maxLength: 20 }),
                  { maxKeys: 3 },
                ),
                fc.anything({ maxDepth: 2 }),
              ),
            },
            { requiredKeys: ['content'] },
          )
          .map((v) => ({ raw: JSON.stringify(v), type: 'application/json' })),
      },
      fc.string({ maxLength: 200 }).map((raw) => ({ raw, type: 'application/json' })),
      fc.string({ maxLength: 200 }).map((raw) => ({ raw, type: 'text/plain' })),
      fc.constant({
        raw: '{"__proto__": {"polluted": true}, "constructor": {"prototype": {"x": 1}}}',
        type: 'application/json',
      }),
    );
    await fc.assert(
      fc.asyncProperty(endpoint, query, body, async ([method, path], q, b) => {
        const search = q ? `?${new URLSearchParams(q).toString()}` : '';
        const res = await fetch(new URL(path + search, service.url), {
          method,
          headers:
            method === 'GET' || method === 'DELETE'
              ? authHeaders()
              : { 'content-type': b.type, ...authHeaders() },
          body: method === 'GET' || method === 'DELETE' ? undefined : b.raw,
        });
        const text = await res.text();
        assert.ok(res.status < 500, `${method} ${path}${search} → ${res.status}: ${text}`);
        if (res.status >= 400) assert.match(res.headers.get('content-type') ?? '', /problem\+json/);
      }),
      { numRuns: 400 },
    );
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    const health = await api.get('/healthz');
    assert.equal(health.status, 200);
  });

  // Injection-shaped input from a caller with no credential: SQL fragments, path traversal (sent
  // byte for byte, never normalized by the client), CR/LF and other raw bytes in header values,
  // prototype-pollution keys in bodies and query strings, oversized Authorization values and
  // forged JWTs. Whatever the request, the answer is not a 5xx, the process keeps serving, the
  // response carries no header the caller smuggled in, and no collection or document changes.
  it('survives injection-shaped input: no 5xx, no crash, no data change', async () => {
    const target = uniqueName('hostile');
    assert.equal((await api.post('/v1/collections', { id: target })).status, 201);
    const ids: string[] = [];
    for (const source of ['a.md', 'b.md']) {
      const res = await api.post(`/v1/collections/${target}/documents`, {
        source,
        content: `# ${source}\n\nThe primary is down: promote the replica.`,
        metadata: { team: 'sre' },
      });
      assert.equal(res.status, 202, res.text);
      ids.push(res.body.document.id);
    }
    const db = knex({
      client: 'pg',
      connection: requireEnv('DATABASE_URL'),
      pool: { min: 0, max: 1 },
    });
    // What a request could change, read from the primary (ingestion still moves statuses along).
    const snapshot = async () => ({
      // Every collection a request could have made or changed is named after the target.
      collections: await db('collections')
        .where('name', 'like', `${target}%`)
        .orderBy('id')
        .select('id', 'name', 'description'),
      documents: await db('documents as d')
        .join('collections as c', 'c.id', 'd.collection_id')
        .where('c.name', target)
        .orderBy('d.id')
        .select('d.id', 'd.source', 'd.content_hash', 'd.title', 'd.metadata'),
    });
    const prototypeBefore = Object.getOwnPropertyNames(Object.prototype).sort();
    // Postgres failing on a fragment degrades the query to vector search (a 200): count it.
    const lexicalFailures = async () =>
      (await metricValue(service.metrics, 'rag_retrieval_degraded_total')) ?? 0;
    const lexicalFailuresBefore = await lexicalFailures();

    const requests = hostileRequests(
      { collection: target, documents: ids },
      hostileHeaders({ credentials: true }),
    );

    try {
      const before = await snapshot();
      await fc.assert(
        fc.asyncProperty(requests, async (req) => {
          assertSurvived(req, await rawRequest(service.url, req));
        }),
        { numRuns: 300, seed: 20261201 },
      );
      assert.deepEqual(await snapshot(), before, 'no collection or document changed');
      assert.equal(await lexicalFailures(), lexicalFailuresBefore, 'no query broke the SQL');
      assert.deepEqual(Object.getOwnPropertyNames(Object.prototype).sort(), prototypeBefore);
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
      assert.equal((await api.get('/healthz')).status, 200);
      assert.equal((await api.get(`/v1/collections/${target}`)).status, 200, 'still serving');
    } finally {
      await db.destroy();
      await api.delete(`/v1/collections/${target}`);
    }
  });

  // The same injection-shaped input from credentials the service accepts: a reader of collection
  // A only and, separately, a writer of A only, neither with any role on B (another principal's).
  // Besides the hostile requests, each sends well-formed ones at what it may not touch (B's
  // collection, documents and members, other principals' keys, new principals, a higher role on
  // A) and, the writer, valid changes to A carrying the fragments. Nothing may change but what a
  // successful valid request of the caller's own accounts for.
  describe('authenticated: a reader and a writer of one collection', () => {
    const a = uniqueName('hostile-a');
    const b = uniqueName('hostile-b');
    const idsA: string[] = [];
    const idsB: string[] = [];
    let db: Knex;
    let owner: { id: string; key: string; keyId: string };
    let rootId: string;
    /** Collections the callers made (as they may): removed at the end. */
    const created = new Set<string>();
    const callers = new Map<'reader' | 'writer', { id: string; key: string }>();

    async function principalWithKey(name: string) {
      const principal = await api.post('/v1/principals', { name });
      assert.equal(principal.status, 201, principal.text);
      const key = await api.post('/v1/api-keys', { principalId: principal.body.id });
      assert.equal(key.status, 201, key.text);
      return {
        id: principal.body.id as string,
        key: key.body.key as string,
        keyId: key.body.apiKey.id,
      };
    }

    async function ingest(client: ReturnType<typeof apiClient>, collection: string, ids: string[]) {
      for (const source of ['a.md', 'b.md']) {
        const res = await client.post(`/v1/collections/${collection}/documents`, {
          source,
          content: `# ${source}\n\nSecrets of ${collection}: the primary is down, promote the replica.`,
          metadata: { team: 'sre' },
        });
        assert.equal(res.status, 202, res.text);
        ids.push(res.body.document.id);
      }
    }

    before(async () => {
      db = knex({ client: 'pg', connection: requireEnv('DATABASE_URL'), pool: { min: 0, max: 1 } });
      // Everything through the real API as the run's super admin: principals, keys, roles.
      const own = await api.get('/v1/api-keys');
      assert.equal(own.status, 200, own.text);
      rootId = own.body.items[0].principalId;
      owner = await principalWithKey(uniqueName('owner-b'));
      const asOwner = apiClient(service.url, { apiKey: owner.key });
      assert.equal((await asOwner.post('/v1/collections', { id: b })).status, 201);
      await ingest(asOwner, b, idsB);
      assert.equal((await api.post('/v1/collections', { id: a })).status, 201);
      await ingest(api, a, idsA);
      for (const role of ['reader', 'writer'] as const) {
        const p = await principalWithKey(uniqueName(role));
        const granted = await api.post(`/v1/collections/${a}/members`, { principalId: p.id, role });
        assert.equal(granted.status, 204, granted.text);
        callers.set(role, p);
        // Its credential works on A (from the replica) and B is as missing to it as any.
        const as = apiClient(service.url, { apiKey: p.key });
        await eventually(async () => (await as.get(`/v1/collections/${a}`)).status === 200, {
          what: `${role} reads ${a}`,
        });
        assert.equal((await as.get(`/v1/collections/${b}`)).status, 404);
      }
    });
    after(async () => {
      await db?.destroy();
      await api.delete(`/v1/collections/${a}`);
      await api.delete(`/v1/collections/${b}`);
      for (const c of created) await api.delete(`/v1/collections/${c}`);
    });

    /** Everything a request could change that is not a document's progress, from the primary. */
    const state = async () => ({
      collections: await db('collections').orderBy('id').select('id', 'name', 'description'),
      documents: await db('documents as d')
        .join('collections as c', 'c.id', 'd.collection_id')
        .whereIn('c.name', [a, b])
        .orderBy('d.id')
        .select(
          'd.id',
          'c.name as collection',
          'd.source',
          'd.content_hash',
          'd.title',
          'd.metadata',
        ),
      roles: await db('collection_roles')
        .orderBy(['principal_id', 'collection_id'])
        .select('principal_id', 'collection_id', 'role'),
      principals: await db('principals')
        .orderBy('id')
        .select('id', 'name', 'super_admin', 'disabled', 'tier'),
      keys: await db('api_keys')
        .orderBy('id')
        .select('id', 'principal_id', 'scopes', 'expires_at', 'revoked_at'),
    });
    type State = Awaited<ReturnType<typeof state>>;

    /** Well-formed requests at what the caller holds no role on, or a role too weak for. */
    function outOfReach(caller: { id: string }) {
      const body = (v: unknown) => json(JSON.stringify(v));
      const docB = fc.constantFrom(...idsB);
      return fc.oneof(
        fc.constantFrom<RawRequest>(
          { method: 'GET', path: `/v1/collections/${b}` },
          { method: 'DELETE', path: `/v1/collections/${b}` },
          { method: 'DELETE', path: `/v1/collections/${a}` },
          { method: 'GET', path: `/v1/collections/${b}/documents` },
          { method: 'GET', path: `/v1/collections/${b}/members` },
          { method: 'GET', path: `/v1/collections/${a}/members` },
          { method: 'GET', path: `/v1/api-keys?principalId=${owner.id}` },
          { method: 'DELETE', path: `/v1/api-keys/${owner.keyId}` },
          { method: 'DELETE', path: `/v1/collections/${a}/members/${rootId}` },
          { method: 'DELETE', path: `/v1/collections/${b}/members/${owner.id}` },
        ),
        docB.map((d): RawRequest => ({
          method: 'GET',
          path: `/v1/collections/${b}/documents/${d}`,
        })),
        docB.map((d): RawRequest => ({
          method: 'DELETE',
          path: `/v1/collections/${b}/documents/${d}`,
        })),
        docB.map((d): RawRequest => ({
          method: 'POST',
          path: `/v1/collections/${b}/documents/${d}/retry`,
        })),
        fc
          .record({ source: fc.constantFrom('a.md', 'b.md'), content: fragment, team: fragment })
          .map(({ source, content, team }): RawRequest => ({
            method: 'POST',
            path: `/v1/collections/${b}/documents`,
            body: body({ source, content, metadata: { team } }),
          })),
        fc
          .record({
            on: fc.constantFrom(a, b),
            principalId: fc.constantFrom(caller.id, owner.id),
            role: fc.constantFrom('reader', 'writer', 'admin'),
          })
          .map(({ on, principalId, role }): RawRequest => ({
            method: 'POST',
            path: `/v1/collections/${on}/members`,
            body: body({ principalId, role }),
          })),
        fc.boolean().map((superAdmin): RawRequest => ({
          method: 'POST',
          path: '/v1/principals',
          body: body({ name: uniqueName('mallory'), superAdmin }),
        })),
        fc.constantFrom(owner.id, rootId).map((principalId): RawRequest => ({
          method: 'POST',
          path: '/v1/api-keys',
          body: body({ principalId, scopes: ['admin'] }),
        })),
        fragment.map((query): RawRequest => ({
          method: 'POST',
          path: '/v1/query',
          body: body({ collection: b, query }),
        })),
      );
    }

    /** Valid changes to A carrying the fragments (a writer's may succeed, a reader's may not). */
    const changesOfA = () =>
      fc.oneof(
        fc
          .record({
            source: fc.oneof(fc.constantFrom('a.md', 'b.md'), fragment),
            title: fragment,
            content: fragment,
            key: fc.constantFrom('team', 'source', 'a.b'),
            value: fragment,
          })
          .map(({ source, title, content, key, value }): RawRequest => ({
            method: 'POST',
            path: `/v1/collections/${a}/documents`,
            body: json(JSON.stringify({ source, title, content, metadata: { [key]: value } })),
          })),
        fc.constantFrom(...idsA).map((d): RawRequest => ({
          method: 'DELETE',
          path: `/v1/collections/${a}/documents/${d}`,
        })),
        fc.constantFrom(...idsA).map((d): RawRequest => ({
          method: 'POST',
          path: `/v1/collections/${a}/documents/${d}/retry`,
        })),
        fc.integer({ min: 0, max: 1e6 }).map((n): RawRequest => ({
          method: 'POST',
          path: '/v1/collections',
          body: json(JSON.stringify({ id: `${a}-${n}`, description: "' OR '1'='1" })),
        })),
      );

    /**
     * The changes the caller's successful requests account for, from what it sent and what the
     * service answered; any other successful change is a failure at once.
     */
    function ledger(caller: { id: string }) {
      const ingested = new Map<
        string,
        {
          collection: string;
          source: string;
          content_hash: string;
          title: string | null;
          metadata: unknown;
        }
      >();
      const deleted = new Set<string>();
      const collections = new Set<string>();
      const keys = new Set<string>();
      return {
        ingested,
        deleted,
        collections,
        keys,
        record(req: RawRequest, res: RawResponse, what: string) {
          if (res.status === undefined || res.status >= 300) return;
          if (req.method === 'GET' || req.path === '/v1/query') return;
          const body = JSON.parse(res.text.slice(res.text.indexOf('\r\n\r\n') + 4) || 'null');
          const sent = req.body ? JSON.parse(req.body.raw) : undefined;
          const docsOfA = `/v1/collections/${a}/documents`;
          if (req.method === 'POST' && req.path === docsOfA) {
            const d = body.document;
            assert.equal(d.source, sent.source, what);
            assert.deepEqual(d.metadata, sent.metadata, what);
            deleted.delete(d.id);
            ingested.set(d.id, {
              collection: a,
              source: d.source,
              content_hash: d.contentHash,
              title: d.title,
              metadata: d.metadata,
            });
          } else if (req.method === 'DELETE' && req.path.startsWith(`${docsOfA}/`)) {
            const id = req.path.slice(docsOfA.length + 1);
            assert.ok(idsA.includes(id) || ingested.has(id), what);
            ingested.delete(id);
            deleted.add(id);
          } else if (
            req.method === 'POST' &&
            /^\/v1\/collections\/[^/]+\/documents\/[^/]+\/retry$/.test(req.path)
          ) {
            assert.ok(req.path.startsWith(`${docsOfA}/`), what);
          } else if (req.method === 'POST' && req.path === '/v1/collections') {
            collections.add(body.id);
          } else if (req.method === 'POST' && req.path === '/v1/api-keys') {
            assert.equal(body.apiKey.principalId, caller.id, what);
            keys.add(body.apiKey.id);
          } else {
            assert.fail(`an unexpected success: ${what}`);
          }
        },
      };
    }

    /** After the run: `before` changed by exactly what the ledger accounts for, nothing else. */
    function assertAccounted(
      before: State,
      after: State,
      caller: { id: string },
      l: ReturnType<typeof ledger>,
    ) {
      const newCollections = after.collections.filter(
        (c) => !before.collections.some((x) => x.id === c.id),
      );
      assert.deepEqual(
        after.collections.filter((c) => !newCollections.includes(c)),
        before.collections,
        'no collection changed or disappeared',
      );
      assert.deepEqual(
        newCollections.map((c) => c.name).sort(),
        [...l.collections].sort(),
        'new collections: the caller created each',
      );
      assert.deepEqual(
        after.documents.filter((d) => d.collection === b),
        before.documents.filter((d) => d.collection === b),
        `nothing of ${b} changed`,
      );
      const expectedA = before.documents
        .filter((d) => d.collection === a && !l.deleted.has(d.id) && !l.ingested.has(d.id))
        .concat([...l.ingested].map(([id, d]) => ({ id, ...d })))
        .sort((x, y) => (x.id < y.id ? -1 : 1));
      assert.deepEqual(
        after.documents.filter((d) => d.collection === a),
        expectedA,
        `${a}: only the caller's successful valid requests changed it`,
      );
      const createdIds = new Set(newCollections.map((c) => c.id));
      assert.deepEqual(
        after.roles.filter((r) => !createdIds.has(r.collection_id)),
        before.roles,
        'no role changed',
      );
      for (const r of after.roles.filter((r) => createdIds.has(r.collection_id)))
        assert.deepEqual([r.principal_id, r.role], [caller.id, 'admin']);
      assert.deepEqual(after.principals, before.principals, 'no principal made or changed');
      assert.deepEqual(
        after.keys.filter((k) => !l.keys.has(k.id)),
        before.keys,
        "no key of anyone changed; new keys are only the caller's own",
      );
    }

    for (const [role, numRuns, seed] of [
      ['reader', 150, 20261202],
      ['writer', 150, 20261203],
    ] as const) {
      it(`as a ${role} of A only: no 5xx, no crash, no change it may not make`, async () => {
        const caller = callers.get(role)!;
        const credential = ['Authorization', `Bearer ${caller.key}`] as const;
        const headers = hostileHeaders({ credentials: false });
        const requests = fc.oneof(
          hostileRequests({ collection: a, documents: idsA }, headers),
          hostileRequests({ collection: b, documents: idsB }, headers),
          outOfReach(caller),
          changesOfA(),
        );
        const l = ledger(caller);
        const statuses = new Map<number, number>();
        const prototypeBefore = Object.getOwnPropertyNames(Object.prototype).sort();
        const before = await state();
        await fc.assert(
          fc.asyncProperty(requests, async (req) => {
            const sent = { ...req, headers: [credential, ...(req.headers ?? [])] };
            const res = await rawRequest(service.url, sent);
            assertSurvived(sent, res);
            const what = `${req.method} ${JSON.stringify(req.path)} ${req.body?.raw ?? ''} → ${res.text.slice(0, 300)}`;
            // The credential is always good: this is the authenticated path, not the 401 one.
            assert.notEqual(res.status, 401, what);
            if (res.status) statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
            l.record(req, res, what);
          }),
          { numRuns, seed, endOnFailure: true },
        );
        for (const c of l.collections) created.add(c);
        assertAccounted(before, await state(), caller, l);
        if (role === 'reader') {
          // Its key may write, so it may create collections of its own (tenants serve
          // themselves, use-cases/collections.ts), accounted for above; nothing in A.
          assert.deepEqual([l.ingested.size, l.deleted.size], [0, 0]);
        } else {
          // The run exercised real changes, so the accounting above is not of an empty ledger.
          assert.ok(l.ingested.size > 0 && l.deleted.size > 0, JSON.stringify([...statuses]));
        }
        assert.ok(statuses.get(200), 'some requests succeeded: the role was in force');
        assert.deepEqual(Object.getOwnPropertyNames(Object.prototype).sort(), prototypeBefore);
        assert.equal(({} as Record<string, unknown>).polluted, undefined);
        assert.equal((await api.get('/healthz')).status, 200);
        assert.equal((await api.get(`/v1/collections/${b}`)).status, 200, 'still serving');
      });
    }

    // Forged and tampered access tokens in the Authorization header, the genuine one a reader's
    // (exchanged for its API key) as the material: `alg: none`; HS256 keyed with the public key the
    // JWKS publishes (in every form a verifier might turn it into a secret); `kid` as a path, SQL or
    // a prototype key; a key embedded in or referred to by the header; the genuine signature on
    // other claims or another algorithm; oversized tokens. Each is a 401 on a read of A and on a
    // delete of B, never a 5xx, and nothing changes.
    it('forged and tampered JWTs: 401, never 5xx, nothing changes', async () => {
      const reader = callers.get('reader')!;
      const jwks = await apiClient(service.url, { apiKey: null }).get('/.well-known/jwks.json');
      assert.equal(jwks.status, 200, jwks.text);
      const published: JsonWebKey & { kid: string; alg: string } = jwks.body.keys[0];
      const pair = await apiClient(service.url, { apiKey: reader.key }).post('/v1/auth/token');
      assert.equal(pair.status, 200, pair.text);
      const genuine: string = pair.body.accessToken;
      const [genuineHeader, genuineClaims, genuineSignature] = genuine.split('.');
      const header = JSON.parse(Buffer.from(genuineHeader, 'base64url').toString());
      const claims = JSON.parse(Buffer.from(genuineClaims, 'base64url').toString());
      const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
      // The genuine token works: the refusals below are of the forgery, not of tokens at all.
      assert.equal(
        (await fetch(new URL(`/v1/collections/${a}`, service.url), { headers: bearer(genuine) }))
          .status,
        200,
      );

      const publicKey = createPublicKey({ key: published, format: 'jwk' });
      const publicSecrets: Buffer[] = [
        Buffer.from(publicKey.export({ type: 'spki', format: 'pem' }) as string),
        publicKey.export({ type: 'spki', format: 'der' }),
        Buffer.from(JSON.stringify(published)),
        ...(published.x ? [Buffer.from(published.x), Buffer.from(published.x, 'base64url')] : []),
        ...(published.n ? [Buffer.from(published.n), Buffer.from(published.n, 'base64url')] : []),
      ];
      const attacker = generateKeyPairSync('ed25519');
      const attackerJwk = attacker.publicKey.export({ format: 'jwk' });
      const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
      const hmac = (bits: string, secret: Buffer, input: string) =>
        createHmac(`sha${bits}`, secret).update(input).digest('base64url');
      type Signer = (input: string, alg: string) => string;
      const signers: Record<string, Signer> = {
        none: () => '',
        genuine: () => genuineSignature,
        garbage: () => 'c2lnbmF0dXJl',
        attacker: (input) =>
          sign(null, Buffer.from(input), attacker.privateKey).toString('base64url'),
        ...Object.fromEntries(
          publicSecrets.map((secret, i) => [
            `public-key-${i}`,
            (input: string, alg: string) =>
              hmac(/^HS(\d+)$/.exec(alg)?.[1] ?? '256', secret, input),
          ]),
        ),
        emptyKey: (input, alg) => hmac(/^HS(\d+)$/.exec(alg)?.[1] ?? '256', Buffer.alloc(0), input),
      };
      const forge = (h: unknown, c: unknown, signer: Signer) => {
        const input = `${b64(h)}.${b64(c)}`;
        return `${input}.${signer(input, (h as { alg?: string }).alg ?? '')}`;
      };
      const asRoot = { ...claims, sub: rootId, scope: undefined };
      const traversalKids = [
        '../../../../../../dev/null',
        '/dev/null',
        '..\\..\\..\\..\\windows\\win.ini',
        '../../../../proc/self/environ',
        `${published.kid}/../../../../etc/passwd`,
        "x' UNION SELECT 'secret' --",
        '__proto__',
        'constructor',
      ];
      const named: [string, string][] = [
        ...['none', 'None', 'NONE', 'nOnE'].flatMap((alg): [string, string][] => [
          [`alg ${alg}`, forge({ ...header, alg }, asRoot, signers.none)],
          [`alg ${alg}, genuine signature`, forge({ ...header, alg }, asRoot, signers.genuine)],
        ]),
        ...['HS256', 'HS384', 'HS512'].flatMap((alg) =>
          publicSecrets.map((_, i): [string, string] => [
            `${alg} keyed with public key form ${i}`,
            forge({ ...header, alg }, asRoot, signers[`public-key-${i}`]),
          ]),
        ),
        ...traversalKids.flatMap((kid): [string, string][] => [
          [
            `kid ${kid}, HS256 with an empty key`,
            forge({ ...header, alg: 'HS256', kid }, asRoot, signers.emptyKey),
          ],
          [`kid ${kid}, genuine alg`, forge({ ...header, kid }, claims, signers.genuine)],
        ]),
        [
          'embedded jwk',
          forge({ ...header, kid: undefined, jwk: attackerJwk }, asRoot, signers.attacker),
        ],
        [
          'jku',
          forge({ ...header, jku: 'http://127.0.0.1:1/jwks.json' }, asRoot, signers.attacker),
        ],
        ['x5u', forge({ ...header, x5u: 'http://127.0.0.1:1/cert.pem' }, asRoot, signers.attacker)],
        ['sub changed, genuine signature', `${genuineHeader}.${b64(asRoot)}.${genuineSignature}`],
        [
          'exp extended, genuine signature',
          `${genuineHeader}.${b64({ ...claims, exp: claims.exp + 86_400 })}.${genuineSignature}`,
        ],
        [
          'alg RS256, genuine signature',
          forge({ ...header, alg: 'RS256' }, claims, signers.genuine),
        ],
        ['typ JWT, genuine signature', forge({ ...header, typ: 'JWT' }, claims, signers.genuine)],
        ['signature stripped', `${genuineHeader}.${genuineClaims}.`],
        // Up to Node's 16 KiB of headers: beyond it Node answers 431 before the service sees it.
        ...[4097, 15_000].map((n): [string, string] => [
          `oversized: ${n} characters`,
          `${genuine}${'A'.repeat(n - genuine.length)}`,
        ]),
        ...[5, 10].map((kb): [string, string] => [
          `oversized: ${kb} KiB of claims, genuine signature`,
          `${genuineHeader}.${b64({ ...claims, pad: 'x'.repeat(kb * 1024) })}.${genuineSignature}`,
        ]),
        [
          'oversized: 10 KiB of claims, alg none',
          forge({ alg: 'none' }, { ...asRoot, pad: 'x'.repeat(10 * 1024) }, signers.none),
        ],
      ];

      // And combinations of the same parts, seeded.
      const generated = fc
        .record({
          alg: fc.constantFrom(
            'none',
            'HS256',
            'HS512',
            'RS256',
            'ES256',
            'EdDSA',
            published.alg,
            '',
          ),
          kid: fc.option(fc.constantFrom(published.kid, ...traversalKids, 'A'.repeat(300))),
          typ: fc.constantFrom(header.typ, 'JWT', undefined),
          extra: fc.constantFrom({}, { jwk: attackerJwk }, { crit: ['b64'], b64: false }),
          sub: fc.constantFrom(rootId, reader.id, owner.id, ...sqlFragments, '__proto__'),
          iss: fc.constantFrom(claims.iss, 'attacker'),
          aud: fc.constantFrom(claims.aud, [claims.aud, 'x'], 'other'),
          signer: fc.constantFrom(...Object.keys(signers)),
        })
        .map(({ alg, kid, typ, extra, sub, iss, aud, signer }) =>
          forge(
            { alg, typ, ...(kid === null ? {} : { kid }), ...extra },
            { ...claims, sub, iss, aud },
            signers[signer],
          ),
        );

      const before = await state();
      const refused = async (what: string, token: string) => {
        for (const [method, path] of [
          ['GET', `/v1/collections/${a}`],
          ['DELETE', `/v1/collections/${b}`],
        ]) {
          const res = await fetch(new URL(path, service.url), { method, headers: bearer(token) });
          const text = await res.text();
          assert.equal(res.status, 401, `${what}: ${method} ${path} → ${res.status} ${text}`);
          assert.match(res.headers.get('content-type') ?? '', /problem\+json/, what);
        }
      };
      for (const [what, token] of named) await refused(what, token);
      await fc.assert(
        fc.asyncProperty(generated, async (token) => {
          // The one combination that is the genuine token itself is not a forgery.
          if (token === genuine) return;
          await refused(token.slice(0, 200), token);
        }),
        { numRuns: 100, seed: 20261204 },
      );
      assert.deepEqual(await state(), before, 'nothing changed');
      assert.equal((await api.get(`/v1/collections/${b}`)).status, 200, 'still serving');
    });
  });
});
