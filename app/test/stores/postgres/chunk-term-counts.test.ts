import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { ChunkInput } from '../../../src/domain/chunk';
import * as backfill from '../../../migrations/20261201000401_backfill_chunk_term_counts';
import { startDataStack, type DataStack } from './data-stack';
import { createTestDatabase, type TestDatabase } from './test-database';

// chunk_term_counts (migrations 20261201000400/401) holds how many chunks of a collection contain
// each search term, the empty term counting every chunk: lexical search reads idf from it instead
// of counting matches. Its triggers must keep it equal to a recount from the chunk rows through
// every way chunks change, and the backfill must count rows written before the triggers existed.

describe('chunk_term_counts (real Postgres)', function () {
  this.timeout(30_000);
  let testDb: TestDatabase;
  let stack: DataStack;
  let n = 0;

  before(async () => {
    testDb = await createTestDatabase('term_counts');
    stack = await startDataStack(testDb);
  });
  after(async () => {
    await stack?.close();
    await testDb?.drop();
  });

  const chunksOf = (texts: string[]): ChunkInput[] =>
    texts.map((text, ordinal) => ({
      id: randomUUID(),
      ordinal,
      text,
      headingPath: ['Steps'],
      start: 0,
      end: text.length,
    }));

  async function collection() {
    return stack.collections.create({
      id: `counts-${process.pid}-${++n}`,
      embeddingModel: 'local-hash-64',
      dimensions: 64,
    });
  }

  /** Ingests and indexes a document as the worker does; returns its id. */
  async function indexed(collectionKey: string, source: string, texts: string[]) {
    const { document } = await stack.documents.ingest(collectionKey, {
      source,
      title: 'Runbook',
      mediaType: 'text/markdown',
      content: texts.join('\n\n'),
      metadata: {},
    });
    await stack.indexing.completeIndexing(document.id, document.contentHash, chunksOf(texts));
    return document.id;
  }

  /** What the table says for a collection, zero counts left out. */
  async function stored(collectionKey: string): Promise<Record<string, number>> {
    const { rows } = await stack.database.primary.raw<{
      rows: { term: string; chunks: number }[];
    }>('SELECT term, chunks FROM chunk_term_counts WHERE collection_id = ? AND chunks <> 0', [
      collectionKey,
    ]);
    return Object.fromEntries(rows.map((r) => [r.term, r.chunks]));
  }

  /** The same figures counted from the chunk rows. */
  async function recounted(collectionKey: string): Promise<Record<string, number>> {
    const { rows } = await stack.database.primary.raw<{
      rows: { term: string; chunks: number }[];
    }>(
      `SELECT t.term, count(*)::int AS chunks
         FROM chunks AS c
        CROSS JOIN LATERAL unnest(array_append(
          coalesce(tsvector_to_array(c.search_vector), '{}'), '')) AS t(term)
        WHERE c.collection_id = ?
        GROUP BY t.term`,
      [collectionKey],
    );
    return Object.fromEntries(rows.map((r) => [r.term, r.chunks]));
  }

  it('follows indexing, re-indexing, chunk updates and document deletes, per collection', async () => {
    const a = await collection();
    const b = await collection();
    const first = await indexed(a.key, 'wal.md', [
      'The WAL volume is full.',
      'Free space on the WAL volume, then restart the replica.',
    ]);
    await indexed(a.key, 'redis.md', ['Redis evicts keys under memory pressure.']);
    await indexed(b.key, 'wal.md', ['The WAL volume is full.']);
    assert.equal((await stored(a.key))['wal'], 2);
    assert.equal((await stored(a.key))[''], 3, 'the empty term counts every chunk');
    assert.deepEqual(await stored(a.key), await recounted(a.key));
    const bCounts = await stored(b.key);
    assert.equal(bCounts['wal'], 1);
    assert.deepEqual(bCounts, await recounted(b.key));

    // Re-indexing replaces the document's chunks (delete, then insert).
    const { document } = await stack.documents.ingest(a.key, {
      source: 'wal.md',
      title: 'Runbook',
      mediaType: 'text/markdown',
      content: 'Promote the standby.',
      metadata: {},
    });
    await stack.indexing.completeIndexing(
      document.id,
      document.contentHash,
      chunksOf(['Promote the standby.']),
    );
    assert.equal(document.id, first);
    assert.equal((await stored(a.key))['wal'], undefined);
    assert.deepEqual(await stored(a.key), await recounted(a.key));

    // A chunk updated in place (the search_vector trigger recomputes it).
    await stack.database.primary.raw(
      "UPDATE chunks SET text = 'Failover to the standby region' WHERE document_id = ?",
      [first],
    );
    assert.equal((await stored(a.key))['failov'], 1);
    assert.deepEqual(await stored(a.key), await recounted(a.key));

    await stack.documents.delete(a.key, first);
    assert.deepEqual(await stored(a.key), await recounted(a.key));
    assert.equal((await stored(a.key))[''], 1);
    assert.deepEqual(await stored(b.key), bCounts, 'the other collection untouched');
  });

  it('goes with a deleted collection', async () => {
    const c = await collection();
    await indexed(c.key, 'a.md', ['Vault unseal keys', 'Rotate the unseal keys']);
    await indexed(c.key, 'b.md', ['Vault audit log']);
    assert.equal((await stored(c.key))['vault'], 2);
    assert.equal(await stack.collections.delete(c.key), true);
    const { rows } = await stack.database.primary.raw(
      'SELECT count(*)::int AS n FROM chunk_term_counts WHERE collection_id = ?',
      [c.key],
    );
    assert.equal(rows[0].n, 0);
  });

  it('the backfill migration counts chunks written before the triggers', async () => {
    const c = await collection();
    const db = stack.database.primary;
    // As left by a version without the triggers: chunks written, nothing counted.
    await db.raw('ALTER TABLE chunks DISABLE TRIGGER chunks_count_terms_insert');
    try {
      await indexed(c.key, 'a.md', ['Certificates expire in seven days', 'Renew the certificate']);
    } finally {
      await db.raw('ALTER TABLE chunks ENABLE TRIGGER chunks_count_terms_insert');
    }
    assert.deepEqual(await stored(c.key), {});
    // A chunk written after the triggers, before the backfill: counted once, not twice.
    await indexed(c.key, 'b.md', ['The certificate of the ingress']);
    await backfill.up(db);
    assert.equal((await stored(c.key))['certif'], 3);
    assert.deepEqual(await stored(c.key), await recounted(c.key));
    // Its session timeouts do not leak into the pooled connection it used.
    const settings = await db.raw("SELECT current_setting('statement_timeout') AS s");
    assert.equal(settings.rows[0].s, '5s');
  });
});
