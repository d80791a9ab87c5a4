import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';
import type { ServerResponse } from 'node:http';
import { DependencyUnavailableError, InvalidInputError } from '../../../src/domain/errors';
import { VectorStoreRequestRejectedError } from '../../../src/stores/vector/qdrant-errors';
import {
  QdrantVectorStore,
  qdrantCollectionName,
  sparseVectorName,
  tenantHnswConfig,
} from '../../../src/stores/vector/qdrant-vector-store';
import { sparseTerms } from '../../../src/stores/vector/sparse-terms';
import type { VectorStore } from '../../../src/stores/vector/vector-store';
import { localJsonServer, type LocalJsonServer } from '../../support/local-json-server';
import { freePort } from '../../support/service-process';
import { CONTRACT_DIMENSIONS, vectorStoreContract } from './vector-store.contract';

// No Qdrant server can be installed here (none in the package registries), so the contract runs
// only where one is configured: QDRANT_URL=http://127.0.0.1:6333 npm test.
const qdrantUrl = process.env.QDRANT_URL;

/** A client of its own, for what the service never does: look at and delete Qdrant collections. */
async function adminClient(url: string) {
  const { QdrantClient } = await import('@qdrant/js-client-rest');
  return new QdrantClient({ url, apiKey: process.env.QDRANT_API_KEY, checkCompatibility: false });
}

if (qdrantUrl) {
  vectorStoreContract(
    'QdrantVectorStore',
    async () =>
      new QdrantVectorStore({
        url: qdrantUrl,
        apiKey: process.env.QDRANT_API_KEY,
        model: 'contract-test',
        dimensions: CONTRACT_DIMENSIONS,
        timeoutMs: 5_000,
      }),
    async (store: VectorStore) => {
      await (
        await adminClient(qdrantUrl)
      ).deleteCollection((store as QdrantVectorStore).collectionName);
    },
  );

  describe('QdrantVectorStore sparse search (real Qdrant)', () => {
    it('ranks points by the rare terms of their text, within the tenant', async () => {
      const admin = await adminClient(qdrantUrl);
      const store = new QdrantVectorStore({ url: qdrantUrl, model: 'sparse-test', dimensions: 4 });
      await admin.deleteCollection(store.collectionName);
      const point = (id: string, collectionId: string, text: string) => ({
        id,
        vector: [1, 0, 0, 0],
        text,
        payload: { collectionId, documentId: `doc-${id.slice(-1)}` },
      });
      await store.upsert([
        point(
          '00000000-0000-4000-8000-000000000001',
          'a',
          'restart the service and check the service logs',
        ),
        point(
          '00000000-0000-4000-8000-000000000002',
          'a',
          'the pg_wal volume is full, check the slot',
        ),
        point('00000000-0000-4000-8000-000000000003', 'b', 'the pg_wal volume is full'),
      ]);
      const hits = await store
        .sparseSearch()
        .search({ collectionKey: 'a', query: 'check why pg_wal is full', limit: 5 });
      assert.equal(hits[0]?.id, '00000000-0000-4000-8000-000000000002');
      assert.ok(hits.every((h) => h.id !== '00000000-0000-4000-8000-000000000003'));
      await admin.deleteCollection(store.collectionName);
    });
  });

  describe('QdrantVectorStore collection layout (real Qdrant)', () => {
    it('creates the collection with the per-tenant layout: tenant index, no global graph', async () => {
      const admin = await adminClient(qdrantUrl);
      const store = new QdrantVectorStore({ url: qdrantUrl, model: 'layout-test', dimensions: 4 });
      await admin.deleteCollection(store.collectionName);
      await store.ensureReady();
      const info = await admin.getCollection(store.collectionName);
      assert.equal(info.config.hnsw_config.m, 0);
      assert.equal(info.config.hnsw_config.payload_m, 16);
      const tenant = info.payload_schema.collection_id;
      assert.equal(tenant?.data_type, 'keyword');
      assert.equal((tenant?.params as { is_tenant?: boolean } | undefined)?.is_tenant, true);
      await admin.deleteCollection(store.collectionName);
    });

    it('moves a collection created with a global graph to the per-tenant layout', async () => {
      const admin = await adminClient(qdrantUrl);
      const store = new QdrantVectorStore({
        url: qdrantUrl,
        model: 'layout-upgrade',
        dimensions: 4,
      });
      await admin.deleteCollection(store.collectionName);
      await admin.createCollection(store.collectionName, {
        vectors: { size: 4, distance: 'Cosine' },
      });
      await store.ensureReady();
      const info = await admin.getCollection(store.collectionName);
      assert.equal(info.config.hnsw_config.m, 0);
      assert.equal(info.config.hnsw_config.payload_m, 16);
      await admin.deleteCollection(store.collectionName);
    });
  });
} else {
  console.log('Qdrant contract tests not configured: set QDRANT_URL to run them.');
}

describe('Qdrant collection naming', () => {
  it('names one Qdrant collection per model and dimension, safely slugged', () => {
    assert.equal(
      qdrantCollectionName('text-embedding-3-small', 1536),
      'rag_text_embedding_3_small_1536',
    );
    assert.equal(
      qdrantCollectionName('BAAI/bge-small-en-v1.5', 384),
      'rag_baai_bge_small_en_v1_5_384',
    );
    assert.equal(qdrantCollectionName('local-hash-384', 384), 'rag_local_hash_384_384');
  });
});

describe('QdrantVectorStore without a reachable Qdrant', () => {
  it('bounds every call by the client timeout and retries readiness on the next call', async () => {
    // A TCP server that accepts and never answers: the worst case for a client without timeouts.
    const sockets: Socket[] = [];
    const silent = createServer((s) => sockets.push(s)).listen(0, '127.0.0.1');
    await once(silent, 'listening');
    const { port } = silent.address() as { port: number };
    const store = new QdrantVectorStore({
      url: `http://127.0.0.1:${port}`,
      model: 'm',
      dimensions: 4,
      timeoutMs: 300,
    });
    try {
      for (const call of [
        () => store.ping(),
        () => store.ensureReady(),
        () => store.search({ collectionId: 'c', vector: [1, 0, 0, 0], topK: 1 }),
      ]) {
        const started = performance.now();
        await assert.rejects(call(), isVectorStoreUnavailable);
        const took = performance.now() - started;
        assert.ok(took < 1_500, `a call took ${took} ms with a 300 ms timeout`);
      }
      assert.ok(sockets.length >= 3, 'each readiness attempt reached the server again');
    } finally {
      sockets.forEach((s) => s.destroy());
      silent.close();
    }
  });

  it('reports a closed port as the vector store being unavailable (a 503), for every operation', async () => {
    const port = await freePort();
    const store = new QdrantVectorStore({
      url: `http://127.0.0.1:${port}`,
      model: 'm',
      dimensions: 4,
    });
    const point = {
      id: 'x',
      vector: [1, 0, 0, 0],
      payload: { collectionId: 'c', documentId: 'd' },
    };
    for (const call of [
      () => store.ping(),
      () => store.ensureReady(),
      () => store.upsert([point]),
      () => store.search({ collectionId: 'c', vector: [1, 0, 0, 0], topK: 1 }),
      () => store.deleteDocument('c', 'd'),
      () => store.deleteCollection('c'),
    ]) {
      await assert.rejects(call(), isVectorStoreUnavailable);
    }
  });

  it('refuses a metadata key Qdrant cannot address as invalid input, before any request', async () => {
    const store = new QdrantVectorStore({ url: 'http://127.0.0.1:9', model: 'm', dimensions: 4 });
    await assert.rejects(
      store.search({
        collectionId: 'c',
        vector: [1, 0, 0, 0],
        topK: 1,
        filter: { metadata: { 'a"b': 'v' } },
      }),
      InvalidInputError,
    );
  });

  it('rejects bad input before any request', async () => {
    const store = new QdrantVectorStore({ url: 'http://127.0.0.1:9', model: 'm', dimensions: 4 });
    await assert.rejects(store.search({ collectionId: 'c', vector: [1, 0], topK: 1 }), RangeError);
    await assert.rejects(
      store.search({ collectionId: 'c', vector: [1, 0, 0, 0], topK: 0 }),
      RangeError,
    );
    await assert.rejects(
      store.upsert([
        { id: 'x', vector: [0, 0, 0, 0], payload: { collectionId: 'c', documentId: 'd' } },
      ]),
      RangeError,
    );
  });
});

function isVectorStoreUnavailable(err: unknown): boolean {
  assert.ok(err instanceof DependencyUnavailableError, `got ${String(err)}`);
  assert.equal(err.dependency, 'vector_store');
  return true;
}

/**
 * A stand-in that answers Qdrant's REST routes the way Qdrant 1.x documents them, for the failure
 * answers a healthy local Qdrant cannot be made to give on demand. `answer` may override a route.
 */
function fakeQdrant(
  answer: (method: string, path: string, body: any, res: ServerResponse) => boolean,
): { server: LocalJsonServer; requests: { method: string; path: string; body: any }[] } {
  const requests: { method: string; path: string; body: any }[] = [];
  const server = localJsonServer((req, body, res) => {
    const method = req.method ?? 'GET';
    const path = (req.url ?? '/').split('?')[0];
    requests.push({ method, path, body });
    if (answer(method, path, body, res)) return;
    const ok = (result: unknown) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ result, status: 'ok', time: 0 }));
    };
    if (path.endsWith('/exists')) return ok({ exists: true });
    if (method === 'GET' && /^\/collections\/[^/]+$/.test(path)) {
      return ok({ config: { hnsw_config: { ...tenantHnswConfig } } });
    }
    if (path.endsWith('/points/query')) return ok({ points: [] });
    return ok(true);
  });
  return { server, requests };
}

function qdrantError(res: ServerResponse, status: number, error: string): true {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ status: { error }, time: 0 }));
  return true;
}

describe('QdrantVectorStore failure answers (Qdrant stand-in)', () => {
  let fake: ReturnType<typeof fakeQdrant> | undefined;
  afterEach(async () => fake?.server.stop());
  const storeFor = (server: LocalJsonServer) =>
    new QdrantVectorStore({ url: server.origin, model: 'm', dimensions: 4, timeoutMs: 2_000 });
  const search = (store: QdrantVectorStore) =>
    store.search({ collectionId: 'c', vector: [1, 0, 0, 0], topK: 1 });

  it('a Qdrant 5xx is the vector store being unavailable', async () => {
    fake = fakeQdrant((_m, path, _b, res) =>
      path.endsWith('/points/query') ? qdrantError(res, 503, 'Service Unavailable') : false,
    );
    await fake.server.start();
    await assert.rejects(search(storeFor(fake.server)), isVectorStoreUnavailable);
  });

  it('a Qdrant 400 to our request is our fault: never a client error, no HTTP status on it', async () => {
    fake = fakeQdrant((_m, path, _b, res) =>
      path.endsWith('/points/query')
        ? qdrantError(res, 400, "Format error in JSON body: Invalid json path: 'metadata..a'")
        : false,
    );
    await fake.server.start();
    const err: unknown = await search(storeFor(fake.server)).then(
      () => assert.fail('resolved'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof VectorStoreRequestRejectedError, String(err));
    assert.ok(!(err instanceof InvalidInputError));
    assert.equal((err as { status?: unknown }).status, undefined, 'a status would become a 4xx');
    assert.match(err.message, /400.*Invalid json path/);
  });

  it('re-creates a collection that disappeared, with the tenant layout, and completes the call', async () => {
    let exists = true;
    fake = fakeQdrant((method, path, _b, res) => {
      if (path.endsWith('/exists')) {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ result: { exists }, status: 'ok', time: 0 }));
        return true;
      }
      if (method === 'PUT' && /^\/collections\/[^/]+$/.test(path)) exists = true;
      if (path.endsWith('/points/query') && !exists) {
        return qdrantError(res, 404, "Not found: Collection `rag_m_4` doesn't exist!");
      }
      return false;
    });
    await fake.server.start();
    const store = storeFor(fake.server);
    assert.deepEqual(await search(store), []);
    exists = false; // deleted behind the store's back, after readiness was remembered
    fake.requests.length = 0;
    assert.deepEqual(await search(store), []);
    const create = fake.requests.find(
      (r) => r.method === 'PUT' && r.path === '/collections/rag_m_4',
    );
    assert.ok(create, `no re-create among ${fake.requests.map((r) => r.path).join(', ')}`);
    assert.deepEqual(create.body.hnsw_config, { m: 0, payload_m: 16 });
    const tenantIndex = fake.requests.find(
      (r) => r.path === '/collections/rag_m_4/index' && r.body.field_name === 'collection_id',
    );
    assert.deepEqual(tenantIndex?.body.field_schema, { type: 'keyword', is_tenant: true });
    assert.equal(fake.requests.filter((r) => r.path.endsWith('/points/query')).length, 2);
  });

  it('moves an existing collection with a global graph to the tenant layout', async () => {
    fake = fakeQdrant((method, path, _b, res) => {
      if (method !== 'GET' || path !== '/collections/rag_m_4') return false;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ result: { config: { hnsw_config: { m: 16 } } }, status: 'ok' }));
      return true;
    });
    await fake.server.start();
    await storeFor(fake.server).ensureReady();
    const update = fake.requests.find((r) => r.method === 'PATCH');
    assert.deepEqual(update?.body, { hnsw_config: { m: 0, payload_m: 16 } });
  });

  it('sends a dotted metadata key quoted, as one key of the metadata object', async () => {
    fake = fakeQdrant(() => false);
    await fake.server.start();
    await storeFor(fake.server).search({
      collectionId: 'c',
      vector: [1, 0, 0, 0],
      topK: 1,
      filter: { metadata: { 'a..b': 'v', team: 'sre' } },
    });
    const query = fake.requests.find((r) => r.path.endsWith('/points/query'));
    assert.deepEqual(
      query?.body.filter.must.map((c: { key: string }) => c.key),
      ['collection_id', 'metadata."a..b"', 'metadata.team'],
    );
  });
});

describe('QdrantVectorStore sparse term vectors (Qdrant stand-in)', () => {
  // The requests as Qdrant's API documents them (sparse vectors with the IDF modifier, the
  // unnamed dense vector named "" beside a named sparse one, query `using` the sparse vector);
  // what Qdrant then ranks is covered by the contract run against a real Qdrant (QDRANT_URL).
  let fake: ReturnType<typeof fakeQdrant> | undefined;
  afterEach(async () => fake?.server.stop());
  const storeFor = (server: LocalJsonServer) =>
    new QdrantVectorStore({ url: server.origin, model: 'm', dimensions: 4, timeoutMs: 2_000 });

  it('creates the collection with the sparse vector, IDF applied by Qdrant', async () => {
    fake = fakeQdrant((_m, path, _b, res) => {
      if (!path.endsWith('/exists')) return false;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ result: { exists: false }, status: 'ok', time: 0 }));
      return true;
    });
    await fake.server.start();
    await storeFor(fake.server).ensureReady();
    const create = fake.requests.find(
      (r) => r.method === 'PUT' && r.path === '/collections/rag_m_4',
    );
    assert.deepEqual(create?.body.sparse_vectors, { [sparseVectorName]: { modifier: 'idf' } });
  });

  it('adds the sparse vector to a collection created before hybrid retrieval, and only then', async () => {
    fake = fakeQdrant(() => false);
    await fake.server.start();
    await storeFor(fake.server).ensureReady();
    const added = fake.requests.find(
      (r) => r.method === 'PUT' && r.path === `/collections/rag_m_4/vectors/${sparseVectorName}`,
    );
    assert.deepEqual(added?.body, { sparse: { modifier: 'idf' } });

    await fake.server.stop();
    fake = fakeQdrant((method, path, _b, res) => {
      if (method !== 'GET' || path !== '/collections/rag_m_4') return false;
      res.setHeader('content-type', 'application/json');
      const params = { sparse_vectors: { [sparseVectorName]: { modifier: 'idf' } } };
      const config = { hnsw_config: { ...tenantHnswConfig }, params };
      res.end(JSON.stringify({ result: { config }, status: 'ok', time: 0 }));
      return true;
    });
    await fake.server.start();
    await storeFor(fake.server).ensureReady();
    assert.ok(!fake.requests.some((r) => r.path.includes('/vectors/')));
  });

  it('upserts each point with its dense vector as "" and its text as sparse terms', async () => {
    fake = fakeQdrant(() => false);
    await fake.server.start();
    await storeFor(fake.server).upsert([
      {
        id: 'p1',
        vector: [3, 0, 4, 0],
        text: 'Replica lagging: the replica replays WAL late',
        payload: { collectionId: 'c', documentId: 'd' },
      },
      { id: 'p2', vector: [1, 0, 0, 0], payload: { collectionId: 'c', documentId: 'd' } },
    ]);
    const upsert = fake.requests.find((r) => r.path === '/collections/rag_m_4/points');
    assert.ok(upsert, 'no upsert request');
    const [withText, without] = upsert.body.points;
    assert.deepEqual(withText.vector[''], [0.6000000238418579, 0, 0.800000011920929, 0]);
    const terms = withText.vector[sparseVectorName];
    assert.deepEqual(terms, sparseTerms('Replica lagging: the replica replays WAL late'));
    assert.equal(terms.indices.length, 5, 'replica, lagg, replay, wal, late; "the" dropped');
    assert.equal(Math.max(...terms.values), 1 + Math.log(2), 'replica twice: sublinear tf');
    assert.deepEqual(without.vector, [1, 0, 0, 0]);
  });

  it('searches the sparse vector within the tenant and its filters', async () => {
    fake = fakeQdrant((_m, path, _b, res) => {
      if (!path.endsWith('/points/query')) return false;
      res.setHeader('content-type', 'application/json');
      const points = [{ id: 'p1', score: 2.5, payload: { document_id: 'd1' } }];
      res.end(JSON.stringify({ result: { points }, status: 'ok', time: 0 }));
      return true;
    });
    await fake.server.start();
    const lexical = storeFor(fake.server).sparseSearch();
    assert.equal(lexical.kind, 'qdrant');
    const hits = await lexical.search({
      collectionKey: 'c',
      query: 'replica lagging',
      limit: 20,
      filter: { metadata: { team: 'sre' } },
    });
    assert.deepEqual(hits, [{ id: 'p1', documentId: 'd1', score: 2.5 }]);
    const query = fake.requests.find((r) => r.path.endsWith('/points/query'));
    assert.equal(query?.body.using, sparseVectorName);
    assert.deepEqual(query?.body.query, sparseTerms('replica lagging'));
    assert.equal(query?.body.limit, 20);
    assert.deepEqual(
      query?.body.filter.must.map((c: { key: string }) => c.key),
      ['collection_id', 'metadata.team'],
    );
    fake.requests.length = 0;
    assert.deepEqual(
      await lexical.search({ collectionKey: 'c', query: 'the of and', limit: 5 }),
      [],
    );
    assert.ok(!fake.requests.some((r) => r.path.endsWith('/points/query')), 'no terms, no request');
  });
});
