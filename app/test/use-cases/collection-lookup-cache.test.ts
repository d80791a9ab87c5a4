import assert from 'node:assert/strict';
import type { Collection, ReadOptions } from '../../src/domain/collection';
import { CollectionLookupCache } from '../../src/use-cases/collection-lookup-cache';

// The query path's in-memory collection lookups: what they may serve and when they must read again.
// A scripted source stands in for Postgres (replica and primary), and the clock is injected.

function collection(id: string, indexVersion: number, key = `${id}-key`): Collection {
  return {
    id,
    key,
    description: null,
    embeddingModel: 'm',
    dimensions: 8,
    indexVersion,
    createdAt: new Date(0),
    updatedAt: new Date(0),
  };
}

class ScriptedSource {
  replica = new Map<string, Collection>();
  primary = new Map<string, Collection>();
  reads: ('replica' | 'primary')[] = [];
  /** When set, the next replica read waits for it (a lookup in flight). */
  hold: Promise<void> | undefined;

  async get(id: string, options: ReadOptions = {}): Promise<Collection | undefined> {
    if (options.fromPrimary) {
      this.reads.push('primary');
      return this.primary.get(id);
    }
    this.reads.push('replica');
    const value = this.replica.get(id);
    if (this.hold) await this.hold;
    return value;
  }

  set(c: Collection, where: 'both' | 'primary' = 'both') {
    this.primary.set(c.id, c);
    if (where === 'both') this.replica.set(c.id, c);
  }
}

describe('CollectionLookupCache', () => {
  let source: ScriptedSource;
  let now: number;
  let cache: CollectionLookupCache;

  beforeEach(() => {
    source = new ScriptedSource();
    now = 0;
    cache = new CollectionLookupCache(source, { ttlMs: 1_000, now: () => now });
    cache.setListening(true);
  });

  it('answers repeated lookups from memory within the TTL, and reads again after it', async () => {
    source.set(collection('a', 1));
    assert.equal((await cache.get('a'))?.indexVersion, 1);
    source.set(collection('a', 2));
    now = 999;
    assert.equal((await cache.get('a'))?.indexVersion, 1, 'within the TTL: no read');
    assert.deepEqual(source.reads, ['replica']);
    now = 1_000;
    assert.equal((await cache.get('a'))?.indexVersion, 2, 'the TTL bounds a missed notice');
  });

  it('peeks only at a fresh entry, and never while notices are not heard', async () => {
    assert.equal(cache.peek('a'), undefined);
    source.set(collection('a', 1));
    await cache.get('a');
    assert.equal(cache.peek('a')?.indexVersion, 1);
    cache.invalidate('a', 2);
    assert.equal(cache.peek('a'), undefined, 'dropped by the change notice');
    await cache.get('a');
    now = 1_000;
    assert.equal(cache.peek('a'), undefined, 'expired');
    await cache.get('a');
    cache.setListening(false);
    assert.equal(cache.peek('a'), undefined);
  });

  it('drops an entry when its change is announced, and reads the primary while the replica trails', async () => {
    source.set(collection('a', 1));
    await cache.get('a');
    source.set(collection('a', 2), 'primary');
    cache.invalidate('a', 2);
    assert.equal((await cache.get('a'))?.indexVersion, 2);
    assert.deepEqual(source.reads, ['replica', 'replica', 'primary']);
    // The primary's answer is cached like any other.
    assert.equal((await cache.get('a'))?.indexVersion, 2);
    assert.equal(source.reads.length, 3);
  });

  it('forgets a deleted collection at once', async () => {
    source.set(collection('a', 1));
    await cache.get('a');
    source.replica.delete('a');
    source.primary.delete('a');
    cache.invalidate('a', null);
    assert.equal(await cache.get('a'), undefined);
  });

  it('does not keep a lookup that raced an announced change', async () => {
    source.set(collection('a', 1));
    let release!: () => void;
    source.hold = new Promise<void>((resolve) => (release = resolve));
    const racing = cache.get('a');
    // The change commits while the old row is on its way back from the replica.
    source.set(collection('a', 2));
    cache.invalidate('a', 2);
    source.hold = undefined;
    release();
    await racing;
    assert.equal((await cache.get('a'))?.indexVersion, 2);
  });

  it('bypasses memory while notices are not heard, and starts empty when they are again', async () => {
    source.set(collection('a', 1));
    await cache.get('a');
    cache.setListening(false);
    source.set(collection('a', 2));
    assert.equal((await cache.get('a'))?.indexVersion, 2);
    source.set(collection('a', 3));
    assert.equal((await cache.get('a'))?.indexVersion, 3, 'every lookup reads while deaf');
    cache.setListening(true);
    source.set(collection('a', 4));
    assert.equal((await cache.get('a'))?.indexVersion, 4, 'nothing from before survives');
  });

  it('never caches a missing collection (a create elsewhere is visible at once)', async () => {
    assert.equal(await cache.get('a'), undefined);
    source.set(collection('a', 0));
    assert.equal((await cache.get('a'))?.indexVersion, 0);
  });

  it('passes primary reads and a zero TTL straight through', async () => {
    source.set(collection('a', 1));
    await cache.get('a', { fromPrimary: true });
    await cache.get('a', { fromPrimary: true });
    assert.deepEqual(source.reads, ['primary', 'primary']);
    const off = new CollectionLookupCache(source, { ttlMs: 0 });
    off.setListening(true);
    await off.get('a');
    await off.get('a');
    assert.equal(source.reads.length, 4);
  });
});
