import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';
import {
  QdrantVectorStore,
  qdrantCollectionName,
} from '../../../src/stores/vector/qdrant-vector-store';
import { CONTRACT_DIMENSIONS, vectorStoreContract } from './vector-store.contract';

// No Qdrant server can be installed here (none in the package registries), so the contract runs
// only where one is configured: QDRANT_URL=http://127.0.0.1:6333 npm test.
const qdrantUrl = process.env.QDRANT_URL;

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
  );
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
        await assert.rejects(call());
        const took = performance.now() - started;
        assert.ok(took < 1_500, `a call took ${took} ms with a 300 ms timeout`);
      }
      assert.ok(sockets.length >= 3, 'each readiness attempt reached the server again');
    } finally {
      sockets.forEach((s) => s.destroy());
      silent.close();
    }
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
