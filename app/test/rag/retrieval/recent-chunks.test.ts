import assert from 'node:assert/strict';
import type { StoredChunk } from '../../../src/domain/chunk';
import type { ChunkStore } from '../../../src/domain/ports';
import { createMetrics } from '../../../src/observability/metrics';
import { RecentChunks } from '../../../src/rag/retrieval/recent-chunks';
import { metricValue } from '../../stores/postgres/test-database';

// The store behind it is a table in memory that records what it was asked: the cache's contract is
// about which rows it returns and which it asks for, whatever the store is.

class TableStore implements ChunkStore {
  readonly rows = new Map<string, StoredChunk>();
  readonly asked: string[][] = [];

  async getChunks(ids: readonly string[]): Promise<StoredChunk[]> {
    this.asked.push([...ids]);
    return ids.flatMap((id) => (this.rows.has(id) ? [this.rows.get(id)!] : []));
  }

  put(id: string, title: string): void {
    this.rows.set(id, {
      id,
      documentId: `doc-${id}`,
      collectionKey: 'key-1',
      ordinal: 0,
      text: `text of ${id}`,
      headingPath: [],
      start: 0,
      end: 10,
      documentSource: `${id}.md`,
      documentTitle: title,
    });
  }
}

const byId = (chunks: StoredChunk[]) =>
  Object.fromEntries(chunks.map((c) => [c.id, c.documentTitle]));

describe('RecentChunks (chunk rows kept per collection index version)', () => {
  it('asks the store only for rows it has not kept for this version', async () => {
    const store = new TableStore();
    ['a', 'b', 'c'].forEach((id) => store.put(id, `title ${id}`));
    const metrics = createMetrics();
    const recent = new RecentChunks(store, metrics);
    const v1 = { key: 'key-1', indexVersion: 1 };

    assert.deepEqual(byId(await recent.getChunks(v1, ['a', 'b'])), {
      a: 'title a',
      b: 'title b',
    });
    assert.deepEqual(byId(await recent.getChunks(v1, ['b', 'c', 'a'])), {
      a: 'title a',
      b: 'title b',
      c: 'title c',
    });
    assert.deepEqual(store.asked, [['a', 'b'], ['c']]);
    assert.equal(
      await metricValue(metrics, 'rag_cache_requests_total', { cache: 'chunks', result: 'hit' }),
      2,
    );
    assert.equal(
      await metricValue(metrics, 'rag_cache_requests_total', { cache: 'chunks', result: 'miss' }),
      3,
    );
  });

  it('reads again under a new index version, and another collection’s rows are its own', async () => {
    const store = new TableStore();
    store.put('a', 'old title');
    const recent = new RecentChunks(store, createMetrics());
    await recent.getChunks({ key: 'key-1', indexVersion: 1 }, ['a']);
    // A re-ingest changed the document's title and bumped the version.
    store.put('a', 'new title');
    assert.deepEqual(byId(await recent.getChunks({ key: 'key-1', indexVersion: 2 }, ['a'])), {
      a: 'new title',
    });
    // A query still answered under the old version gets what that version held.
    assert.deepEqual(byId(await recent.getChunks({ key: 'key-1', indexVersion: 1 }, ['a'])), {
      a: 'old title',
    });
    await recent.getChunks({ key: 'key-2', indexVersion: 1 }, ['a']);
    assert.equal(store.asked.length, 3);
  });

  it('keeps nothing for a row the store does not have (a deleted chunk is asked for again)', async () => {
    const store = new TableStore();
    const recent = new RecentChunks(store, createMetrics());
    const v1 = { key: 'key-1', indexVersion: 1 };
    assert.deepEqual(await recent.getChunks(v1, ['gone']), []);
    assert.deepEqual(await recent.getChunks(v1, ['gone']), []);
    assert.equal(store.asked.length, 2);
  });

  it('holds at most its bound, evicting the least recently used', async () => {
    const store = new TableStore();
    ['a', 'b', 'c'].forEach((id) => store.put(id, id));
    const recent = new RecentChunks(store, createMetrics(), 2);
    const v1 = { key: 'key-1', indexVersion: 1 };
    await recent.getChunks(v1, ['a']);
    await recent.getChunks(v1, ['b']);
    await recent.getChunks(v1, ['a']); // a is now the most recent
    await recent.getChunks(v1, ['c']); // evicts b
    store.asked.length = 0;
    await recent.getChunks(v1, ['a', 'c']);
    assert.deepEqual(store.asked, []);
    await recent.getChunks(v1, ['b']);
    assert.deepEqual(store.asked, [['b']]);
  });
});
