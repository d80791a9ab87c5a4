import assert from 'node:assert/strict';
import type { RunningService } from '../../src/service';
import { apiClient } from '../support/http-client';
import { eventually, startTestService, uniqueName } from '../support/test-service';

const handbook = `# Incident handbook

## Postgres failover
When the Postgres primary is down, promote the replica with pg_ctl promote and repoint DATABASE_URL.

## Redis outage
If Redis is unreachable the service keeps answering without its cache; restart redis-server.
`;

describe('API against real Postgres (primary + replica) and Redis', function () {
  this.timeout(60_000);
  let service: RunningService;
  let api: ReturnType<typeof apiClient>;
  const collection = uniqueName('api');

  before(async () => {
    service = await startTestService();
    api = apiClient(service.url);
  });
  after(() => service?.close());

  // Reads are served by the streaming replica, so a read right after a write may not see it yet:
  // tests wait for the state they expect instead of assuming read-your-writes.
  async function indexed(documentId: string, contentHash?: string) {
    return eventually(
      async () => {
        const res = await api.get(`/v1/collections/${collection}/documents/${documentId}`);
        const current = !contentHash || res.body.contentHash === contentHash;
        return res.body.status === 'indexed' && current && res.body;
      },
      { what: `document ${documentId} indexed` },
    );
  }

  async function gone(path: string) {
    await eventually(async () => (await api.get(path)).status === 404, { what: `${path} gone` });
  }

  it('creates, lists and gets a collection; a duplicate is a 409 problem', async () => {
    const created = await api.post('/v1/collections', { id: collection, description: 'test' });
    assert.equal(created.status, 201);
    assert.equal(created.body.id, collection);
    assert.equal(created.headers.get('location'), `/v1/collections/${collection}`);
    const again = await api.post('/v1/collections', { id: collection });
    assert.equal(again.status, 409);
    assert.match(again.headers.get('content-type') ?? '', /application\/problem\+json/);
    const got = await eventually(async () => {
      const res = await api.get(`/v1/collections/${collection}`);
      return res.status === 200 && res;
    });
    assert.equal(got.body.embeddingModel, 'local-hash-384');
    let cursor: string | null = null;
    const ids: string[] = [];
    do {
      const page: any = await api.get(
        `/v1/collections?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      assert.equal(page.status, 200);
      ids.push(...page.body.items.map((c: { id: string }) => c.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    assert.ok(ids.includes(collection));
  });

  let documentId: string;

  it('ingests asynchronously, then answers a query with citations', async () => {
    const res = await api.post(`/v1/collections/${collection}/documents`, {
      source: 'handbook.md',
      title: 'Incident handbook',
      content: handbook,
      metadata: { team: 'sre' },
    });
    assert.equal(res.status, 202);
    assert.equal(res.body.outcome, 'created');
    documentId = res.body.document.id;
    const doc = await indexed(documentId);
    assert.ok(doc.chunkCount >= 2);

    const answer = await api.post('/v1/query', {
      collection,
      query: 'how do I promote the replica when the postgres primary is down?',
      topK: 3,
    });
    assert.equal(answer.status, 200);
    assert.equal(answer.body.cached, false);
    assert.ok(answer.body.answer.length > 0);
    assert.ok(answer.body.citations.length > 0);
    const top = answer.body.citations[0];
    assert.equal(top.documentId, documentId);
    assert.equal(top.source, 'handbook.md');
    assert.match(top.snippet, /promote/i);
    assert.match(
      answer.headers.get('server-timing') ?? '',
      /embed;dur=.*retrieve;dur=.*generate;dur=/,
    );
  });

  it('serves the repeated query from the cache until the collection changes', async () => {
    const q = { collection, query: 'what if redis is unreachable?', topK: 2 };
    const first = await api.post('/v1/query', q);
    assert.equal(first.status, 200);
    const second = await api.post('/v1/query', q);
    assert.equal(second.body.cached, true);
    // A hit is sent as the text the cache holds: the same answer, headers and length as computed.
    assert.deepEqual({ ...second.body, cached: false }, first.body);
    assert.equal(second.headers.get('content-type'), first.headers.get('content-type'));
    assert.equal(Number(second.headers.get('content-length')), Buffer.byteLength(second.text));
    assert.match(second.headers.get('server-timing') ?? '', /cache;dur=/);
    assert.doesNotMatch(second.headers.get('server-timing') ?? '', /embed;dur=/);

    const replaced = await api.post(`/v1/collections/${collection}/documents`, {
      source: 'handbook.md',
      content: handbook.replace(
        'restart redis-server',
        'page the cache owner and restart redis-server',
      ),
    });
    assert.equal(replaced.status, 202);
    assert.equal(replaced.body.outcome, 'replaced');
    assert.equal(replaced.body.document.id, documentId);
    await indexed(documentId, replaced.body.document.contentHash);
    const third = await api.post('/v1/query', q);
    assert.equal(third.body.cached, false);
    assert.ok(third.body.indexVersion > first.body.indexVersion);
  });

  it('is idempotent by content: the same document again is 200 unchanged with no new job', async () => {
    const before = await api.get(`/v1/collections/${collection}/documents/${documentId}`);
    const res = await api.post(`/v1/collections/${collection}/documents`, {
      source: 'handbook.md',
      content: handbook.replace(
        'restart redis-server',
        'page the cache owner and restart redis-server',
      ),
    });
    assert.equal(res.status, 200);
    assert.equal(res.body.outcome, 'unchanged');
    assert.equal(res.body.document.contentHash, before.body.contentHash);
    assert.equal(res.body.document.status, 'indexed');
  });

  it('replacing a document leaves no stale chunks behind', async () => {
    const res = await api.post(`/v1/collections/${collection}/documents`, {
      source: 'handbook.md',
      content:
        '# Only section\n\nThe handbook now only covers certificate rotation with cert-manager.',
    });
    assert.equal(res.body.outcome, 'replaced');
    const doc = await indexed(documentId, res.body.document.contentHash);
    assert.equal(doc.chunkCount, 1);
    const answer = await api.post('/v1/query', {
      collection,
      query: 'promote the replica postgres primary',
      topK: 10,
    });
    assert.equal(answer.status, 200);
    for (const c of answer.body.citations) assert.doesNotMatch(c.snippet, /promote/i);
  });

  it('filters by metadata and document id', async () => {
    const other = await api.post(`/v1/collections/${collection}/documents`, {
      source: 'other.md',
      content: '# Certificates\n\nRotate certificates with cert-manager before they expire.',
      metadata: { team: 'platform' },
    });
    await indexed(other.body.document.id);
    const byTeam = await api.post('/v1/query', {
      collection,
      query: 'certificate rotation cert-manager',
      filter: { metadata: { team: 'platform' } },
    });
    assert.ok(byTeam.body.citations.length > 0);
    for (const c of byTeam.body.citations) assert.equal(c.documentId, other.body.document.id);
    const byId = await api.post('/v1/query', {
      collection,
      query: 'certificate rotation cert-manager',
      filter: { documentIds: [documentId] },
    });
    for (const c of byId.body.citations) assert.equal(c.documentId, documentId);
  });

  it('lists documents by status and deletes a document with its chunks and vectors', async () => {
    const listed = await api.get(`/v1/collections/${collection}/documents?status=indexed&limit=1`);
    assert.equal(listed.status, 200);
    assert.equal(listed.body.items.length, 1);
    assert.ok(listed.body.nextCursor);
    const next = await api.get(
      `/v1/collections/${collection}/documents?status=indexed&limit=1&cursor=${encodeURIComponent(listed.body.nextCursor)}`,
    );
    assert.equal(next.body.items.length, 1);
    assert.notEqual(next.body.items[0].id, listed.body.items[0].id);

    const del = await api.delete(`/v1/collections/${collection}/documents/${documentId}`);
    assert.equal(del.status, 204);
    await gone(`/v1/collections/${collection}/documents/${documentId}`);
    assert.equal(
      (await api.delete(`/v1/collections/${collection}/documents/${documentId}`)).status,
      404,
    );
    const answer = await api.post('/v1/query', {
      collection,
      query: 'certificate rotation',
      topK: 10,
    });
    for (const c of answer.body.citations) assert.notEqual(c.documentId, documentId);
  });

  it('answers a question the same by its exact path and by any spelling the router accepts', async () => {
    // The exact path runs as one chain (app.ts); another case or a trailing slash goes through
    // the router: same handlers, same answer, same route label, same headers.
    const q = { collection, query: 'which runbook covers replica lag?', topK: 2 };
    const exact = await api.post('/v1/query', q);
    assert.equal(exact.status, 200);
    const countOf = async () =>
      Number(
        /rag_http_requests_total\{method="POST",route="\/v1\/query",status_code="200"\} (\d+)/.exec(
          (await api.get('/metrics')).text,
        )?.[1],
      );
    const before = await countOf();
    for (const path of ['/v1/query/', '/V1/Query', '/v1/query']) {
      const res = await api.post(path, q);
      assert.equal(res.status, 200, path);
      assert.deepEqual({ ...res.body, cached: false }, exact.body, path);
      for (const header of ['x-request-id', 'ratelimit-policy', 'content-security-policy']) {
        assert.equal(res.headers.has(header), exact.headers.has(header), `${path}: ${header}`);
      }
    }
    assert.equal(await countOf(), before + 3, 'every spelling counted under the route template');
    const broken = { headers: { 'content-type': 'application/json' }, rawBody: '{"collection":' };
    const malformed = await api.request('POST', '/v1/query/', undefined, broken);
    const malformedExact = await api.request('POST', '/v1/query', undefined, broken);
    assert.equal(malformed.status, 400);
    assert.deepEqual(
      { ...malformed.body, instance: undefined },
      { ...malformedExact.body, instance: undefined },
    );
  });

  it('deletes a collection and everything in it', async () => {
    assert.equal((await api.delete(`/v1/collections/${collection}`)).status, 204);
    await gone(`/v1/collections/${collection}`);
    const q = await api.post('/v1/query', { collection, query: 'anything' });
    assert.equal(q.status, 404);
    assert.equal(q.body.type, 'urn:rag-platform:problem:not-found');
  });

  it('reports RED metrics by route template, with request ids and health endpoints', async () => {
    const res = await api.request('GET', '/v1/collections', undefined, {
      headers: { 'x-request-id': 'abc-123' },
    });
    assert.equal(res.headers.get('x-request-id'), 'abc-123');
    const metrics = await api.get('/metrics');
    assert.match(
      metrics.text,
      /rag_http_requests_total\{method="POST",route="\/v1\/query",status_code="200"\} \d+/,
    );
    assert.match(
      metrics.text,
      /rag_http_request_duration_seconds_bucket\{le="0.05",method="GET",route="\/v1\/collections\/:collectionId\/documents\/:documentId",status_code="200"\}/,
    );
    assert.match(metrics.text, /rag_stage_duration_seconds_count\{stage="embed"\} [1-9]/);
    assert.match(metrics.text, /rag_cache_requests_total\{cache="query",result="hit"\} [1-9]/);
    assert.match(metrics.text, /rag_db_reads_total\{target="replica"\} [1-9]/);
    assert.match(metrics.text, /process_cpu_seconds_total/);
    assert.deepEqual((await api.get('/healthz')).body, { status: 'ok' });
    const ready = await api.get('/readyz');
    assert.equal(ready.status, 200);
    assert.equal(ready.body.status, 'ready', JSON.stringify(ready.body));
  });

  it('publishes an OpenAPI 3.1 document covering every route, and browsable docs', async () => {
    const doc = await api.get('/openapi.json');
    assert.equal(doc.body.openapi, '3.1.0');
    assert.deepEqual(Object.keys(doc.body.paths).sort(), [
      '/.well-known/jwks.json',
      '/v1/api-keys',
      '/v1/api-keys/{keyId}',
      '/v1/auth/refresh',
      '/v1/auth/revoke',
      '/v1/auth/token',
      '/v1/collections',
      '/v1/collections/{collectionId}',
      '/v1/collections/{collectionId}/documents',
      '/v1/collections/{collectionId}/documents/{documentId}',
      '/v1/collections/{collectionId}/documents/{documentId}/retry',
      '/v1/collections/{collectionId}/members',
      '/v1/collections/{collectionId}/members/{principalId}',
      '/v1/principals',
      '/v1/principals/{principalId}',
      '/v1/query',
    ]);
    assert.equal(doc.body.components.schemas.Query.additionalProperties, false);
    const docs = await fetch(new URL('/docs/', service.url));
    assert.equal(docs.status, 200);
    assert.match(await docs.text(), /swagger-ui/);
  });
});
