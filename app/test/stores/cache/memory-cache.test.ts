import assert from 'node:assert/strict';
import { MemoryCache } from '../../../src/stores/cache/memory-cache';
import { cacheContract } from './cache.contract';

function fakeClock() {
  let t = 1_000_000;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

cacheContract('MemoryCache', async () => {
  const clock = fakeClock();
  const cache = new MemoryCache({ now: clock.now });
  return {
    cache,
    elapse: async (ms) => void clock.advance(ms),
    close: () => cache.close(),
  };
});

describe('MemoryCache bounds', () => {
  it('evicts the least recently used entry beyond maxEntries', async () => {
    const cache = new MemoryCache({ maxEntries: 3 });
    await cache.setMany(
      [
        ['a', '1'],
        ['b', '2'],
        ['c', '3'],
      ],
      60,
    );
    assert.equal(await cache.get('a'), '1'); // a is now the most recent
    await cache.set('d', '4', 60);
    assert.deepEqual(await cache.getMany(['a', 'b', 'c', 'd']), ['1', undefined, '3', '4']);
    assert.equal(cache.size, 3);
  });

  it('evicts by approximate size and refuses an entry larger than the budget', async () => {
    const cache = new MemoryCache({ maxBytes: 1_000 });
    await cache.set('a', 'x'.repeat(200), 60); // ~402 bytes
    await cache.set('b', 'y'.repeat(200), 60);
    await cache.set('c', 'z'.repeat(200), 60); // over budget: a goes
    assert.deepEqual(await cache.getMany(['a', 'b', 'c']), [
      undefined,
      'y'.repeat(200),
      'z'.repeat(200),
    ]);
    await cache.set('huge', 'h'.repeat(10_000), 60);
    assert.equal(await cache.get('huge'), undefined);
    assert.equal(await cache.get('c'), 'z'.repeat(200));
  });

  it('rejects nonsensical bounds', () => {
    assert.throws(() => new MemoryCache({ maxEntries: 0 }), RangeError);
  });
});
