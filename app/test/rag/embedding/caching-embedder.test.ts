import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { once } from 'node:events';
import { createMetrics, type Metrics } from '../../../src/observability/metrics';
import { CachingEmbedder, decode, encode } from '../../../src/rag/embedding/caching-embedder';
import type { Embedder } from '../../../src/rag/embedding/embedder';
import { LocalEmbedder } from '../../../src/rag/embedding/local-embedder';
import type { Cache } from '../../../src/stores/cache/cache';
import { embeddingCacheKey } from '../../../src/stores/cache/cache-keys';
import { MemoryCache } from '../../../src/stores/cache/memory-cache';
import { RedisCache } from '../../../src/stores/cache/redis-cache';

/** The real local embedder, recording what reaches it. */
class RecordingEmbedder implements Embedder {
  readonly calls: string[][] = [];
  private readonly inner = new LocalEmbedder(64);
  readonly model = this.inner.model;
  readonly dimensions = this.inner.dimensions;
  async embed(texts: readonly string[]): Promise<Float32Array[]> {
    this.calls.push([...texts]);
    return this.inner.embed(texts);
  }
}

async function count(metrics: Metrics, result: string): Promise<number> {
  const { values } = await metrics.cacheRequests.get();
  return (
    values.find((v) => v.labels.cache === 'embedding' && v.labels.result === result)?.value ?? 0
  );
}

function suite(name: string, makeCache: () => Promise<Cache>) {
  describe(`CachingEmbedder over ${name}`, () => {
    let cache: Cache;
    let inner: RecordingEmbedder;
    let metrics: Metrics;
    let embedder: CachingEmbedder;
    const unique = `${Date.now()}-${Math.random()}`;

    beforeEach(async () => {
      cache = await makeCache();
      inner = new RecordingEmbedder();
      metrics = createMetrics();
      embedder = new CachingEmbedder(inner, cache, { metrics, ttlSeconds: 60 });
    });
    afterEach(async () => cache.close());

    it('embeds misses once, serves repeats from the cache, and counts hits and misses', async () => {
      const a = `alpha ${unique}`;
      const b = `beta ${unique}`;
      const first = await embedder.embed([a, b, a]);
      assert.deepEqual(inner.calls, [[a, b]], 'duplicates in a batch are embedded once');
      const second = await embedder.embed([b, `gamma ${unique}`, a]);
      assert.deepEqual(inner.calls[1], [`gamma ${unique}`]);
      assert.deepEqual(second[0], first[1]);
      assert.deepEqual(second[2], first[0]);
      assert.deepEqual(first[0], (await new LocalEmbedder(64).embed([a]))[0]);
      assert.equal(await count(metrics, 'miss'), 3);
      assert.equal(await count(metrics, 'hit'), 2);
      assert.equal(embedder.model, 'local-hash-64');
    });

    it('treats a corrupt cache entry as a miss', async () => {
      const text = `corrupt ${unique}`;
      await cache.set(embeddingCacheKey('local-hash-64', 64, text), 'bm90IGEgdmVjdG9y', 60);
      const [v] = await embedder.embed([text]);
      assert.equal(v.length, 64);
      assert.equal(inner.calls.length, 1);
    });
  });
}

suite('MemoryCache', async () => new MemoryCache());
suite('RedisCache', async () => {
  const cache = new RedisCache(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  await cache.waitUntilReady();
  return cache;
});

describe('CachingEmbedder when the cache is down', () => {
  it('falls through to the inner embedder and counts errors', async () => {
    const probe = createServer().listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const { port } = probe.address() as { port: number };
    probe.close();
    const cache = new RedisCache(`redis://127.0.0.1:${port}`, { commandTimeoutMs: 100 });
    const inner = new RecordingEmbedder();
    const metrics = createMetrics();
    const embedder = new CachingEmbedder(inner, cache, { metrics, ttlSeconds: 60 });
    try {
      const vectors = await embedder.embed(['one', 'two']);
      assert.deepEqual(vectors, await new LocalEmbedder(64).embed(['one', 'two']));
      assert.equal(await count(metrics, 'error'), 2);
      assert.equal(await count(metrics, 'hit'), 0);
    } finally {
      await cache.close();
    }
  });
});

describe('embedding encoding', () => {
  it('round-trips exactly and rejects the wrong size', () => {
    const v = Float32Array.from([0.1, -0.25, 1e-7, 0.999]);
    assert.deepEqual(decode(encode(v), 4), v);
    assert.equal(decode(encode(v), 5), undefined);
    assert.equal(encode(v).length, 24);
  });
});
