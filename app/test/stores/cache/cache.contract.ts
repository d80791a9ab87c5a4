import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Cache } from '../../../src/stores/cache/cache';

export interface CacheFixture {
  readonly cache: Cache;
  /** Lets `ms` of cache time pass (a fake clock for memory, real waiting for Redis). */
  elapse(ms: number): Promise<void>;
  close(): Promise<void>;
}

/** Behaviour every Cache implementation must have; each implementation's suite calls this. */
export function cacheContract(name: string, create: () => Promise<CacheFixture>): void {
  describe(`${name} (cache contract)`, () => {
    let fx: CacheFixture;
    // Unique keys per test: the Redis behind the suite is shared with other suites and runs.
    let ns: string;
    const key = (k: string) => `test:${ns}:${k}`;

    beforeEach(async () => {
      fx = await create();
      ns = randomUUID();
    });
    afterEach(async () => fx.close());

    it('returns undefined for a key never set', async () => {
      assert.equal(await fx.cache.get(key('absent')), undefined);
    });

    it('returns what was set, byte for byte, including unicode and large values', async () => {
      const big = 'x'.repeat(200_000);
      const unicode = 'zürich — 東京 — 🚀\n"quoted"';
      await fx.cache.set(key('big'), big, 60);
      await fx.cache.set(key('uni'), unicode, 60);
      await fx.cache.set(key('empty'), '', 60);
      assert.equal(await fx.cache.get(key('big')), big);
      assert.equal(await fx.cache.get(key('uni')), unicode);
      assert.equal(await fx.cache.get(key('empty')), '');
    });

    it('peek never disagrees with get: the current value or undefined, never an older one', async () => {
      assert.equal(fx.cache.peek(key('absent')), undefined);
      await fx.cache.set(key('p'), 'one', 60);
      assert.equal(await fx.cache.get(key('p')), 'one');
      assert.ok([undefined, 'one'].includes(fx.cache.peek(key('p'))));
      await fx.cache.set(key('p'), 'two', 60);
      assert.ok([undefined, 'two'].includes(fx.cache.peek(key('p'))), 'peek saw the old value');
      assert.equal(await fx.cache.get(key('p')), 'two');
    });

    it('overwrites an existing key', async () => {
      await fx.cache.set(key('k'), 'one', 60);
      await fx.cache.set(key('k'), 'two', 60);
      assert.equal(await fx.cache.get(key('k')), 'two');
    });

    it('getMany returns values in key order with undefined for misses', async () => {
      await fx.cache.setMany(
        [
          [key('a'), 'A'],
          [key('c'), 'C'],
        ],
        60,
      );
      assert.deepEqual(await fx.cache.getMany([key('a'), key('b'), key('c'), key('a')]), [
        'A',
        undefined,
        'C',
        'A',
      ]);
    });

    it('getMany and setMany accept empty lists', async () => {
      assert.deepEqual(await fx.cache.getMany([]), []);
      await fx.cache.setMany([], 60);
    });

    it('expires entries after their TTL and not before', async () => {
      await fx.cache.set(key('short'), 'v', 1);
      await fx.cache.setMany([[key('short-many'), 'w']], 1);
      await fx.cache.set(key('long'), 'l', 60);
      await fx.elapse(300);
      assert.equal(await fx.cache.get(key('short')), 'v');
      await fx.elapse(1_000);
      assert.deepEqual(await fx.cache.getMany([key('short'), key('short-many'), key('long')]), [
        undefined,
        undefined,
        'l',
      ]);
    });

    it('rejects a non-positive TTL', async () => {
      await assert.rejects(fx.cache.set(key('bad'), 'v', 0), RangeError);
    });

    it('answers ping', async () => {
      await fx.cache.ping();
    });
  });
}
