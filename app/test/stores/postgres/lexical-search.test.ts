import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import type { ChunkInput } from '../../../src/domain/chunk';
import {
  CANDIDATE_CHUNKS,
  COMMON_TERM_CHUNKS,
  PostgresLexicalSearch,
} from '../../../src/stores/postgres/lexical-search-repository';
import * as indexMigration from '../../../migrations/20261130000003_index_chunk_search_vector';
import { startDataStack, type DataStack } from './data-stack';
import { createTestDatabase, waitFor, type TestDatabase } from './test-database';

// Postgres full-text search over chunk rows, on the real primary + replica: what the trigger
// indexes, how the ranking weighs rare terms, and the same scoping and filters as vector search.

describe('PostgresLexicalSearch (real Postgres)', function () {
  this.timeout(30_000);
  let testDb: TestDatabase;
  let stack: DataStack;
  let lexical: PostgresLexicalSearch;
  let n = 0;

  before(async () => {
    testDb = await createTestDatabase('lexical_search');
    stack = await startDataStack(testDb);
    lexical = new PostgresLexicalSearch(stack.database);
  });
  after(async () => {
    await stack?.close();
    await testDb?.drop();
  });

  /** A collection with indexed documents, written through the indexing repository. */
  async function collectionWith(
    docs: { title: string; chunks: string[]; metadata?: Record<string, string> }[],
  ) {
    const collection = await stack.collections.create({
      id: `lexical-${process.pid}-${++n}`,
      embeddingModel: 'local-hash-64',
      dimensions: 64,
    });
    const ids: { documentId: string; chunkIds: string[] }[] = [];
    for (const [i, doc] of docs.entries()) {
      const { document } = await stack.documents.ingest(collection.key, {
        source: `doc-${i}.md`,
        title: doc.title,
        mediaType: 'text/markdown',
        content: doc.chunks.join('\n\n'),
        metadata: doc.metadata ?? {},
      });
      const chunks: ChunkInput[] = doc.chunks.map((text, ordinal) => ({
        id: randomUUID(),
        ordinal,
        text,
        headingPath: ['Steps'],
        start: 0,
        end: text.length,
      }));
      await stack.indexing.completeIndexing(document.id, document.contentHash, chunks);
      ids.push({ documentId: document.id, chunkIds: chunks.map((c) => c.id) });
    }
    // Searches read the replica: wait until it has every chunk row.
    const all = ids.flatMap((d) => d.chunkIds);
    await waitFor(
      async () =>
        (await stack.database.read((db) => db('chunks').whereIn('id', all).count('* as n')))[0].n ==
        all.length,
      10_000,
      'chunks on the replica',
    );
    return { key: collection.key, ids };
  }

  it('fills search_vector on insert, from the chunk, its headings and its document title', async () => {
    const { ids } = await collectionWith([
      { title: 'Replica failover', chunks: ['Promote the standby with pg_ctl promote.'] },
    ]);
    const { rows } = await stack.database.primary.raw(
      `SELECT search_vector @@ 'failov'::tsquery AS title, search_vector @@ 'promot'::tsquery AS body
         FROM chunks WHERE id = ?`,
      [ids[0].chunkIds[0]],
    );
    assert.deepEqual(rows[0], { title: true, body: true });
  });

  it('ranks the chunk holding the rare term first, whatever the common words say', async () => {
    const common = 'check the service logs and restart the service if the service is slow';
    const { key, ids } = await collectionWith([
      { title: 'General', chunks: [common, `${common} again`, `${common} once more`] },
      { title: 'Storage', chunks: ['The pg_wal volume is full: free space before writes stop.'] },
    ]);
    const hits = await lexical.search({
      collectionKey: key,
      query: 'the service stopped, is the WAL volume full?',
      limit: 10,
    });
    assert.equal(hits[0].id, ids[1].chunkIds[0]);
    assert.equal(hits[0].documentId, ids[1].documentId);
    assert.ok(hits.every((h, i) => i === 0 || h.score <= hits[i - 1].score));
  });

  it('ranks a chunk holding more of the question’s terms above one repeating a single term', async () => {
    // Ranking per term alone, the chunk that says "KMS" five times outscores the one that names
    // KMS once together with the restart the question is about (the other term is commoner, so
    // its idf adds less than the repetitions do).
    const { key, ids } = await collectionWith([
      {
        title: 'Keys',
        chunks: [
          'The KMS key is gone. Check KMS access, KMS grants and the KMS key policy; KMS must answer.',
          'After a restart the server waits for KMS to unseal.',
        ],
      },
      { title: 'Pods', chunks: Array.from({ length: 9 }, (_, i) => `Restart pod ${i} if hung.`) },
      { title: 'Other', chunks: Array.from({ length: 9 }, (_, i) => `Unrelated note ${i}.`) },
    ]);
    const hits = await lexical.search({
      collectionKey: key,
      query: 'KMS after a restart',
      limit: 5,
    });
    assert.deepEqual(
      hits.slice(0, 2).map((h) => h.id),
      [ids[0].chunkIds[1], ids[0].chunkIds[0]],
    );
  });

  it('matches any of the question’s words, stemmed (a paraphrase shares only some)', async () => {
    const { key, ids } = await collectionWith([
      { title: 'Queue', chunks: ['Thousands of jobs are waiting; workers are saturated.'] },
    ]);
    const hits = await lexical.search({
      collectionKey: key,
      query: 'why is a job waiting so long, nobody answers the pager',
      limit: 5,
    });
    assert.deepEqual(
      hits.map((h) => h.id),
      ids[0].chunkIds,
    );
  });

  it('leaves out a term found in more chunks than the bound, so it cannot make a query read them all', async () => {
    const everywhere = Array.from(
      { length: COMMON_TERM_CHUNKS + 1 },
      (_, i) => `Routine heartbeat entry ${i}`,
    );
    const { key, ids } = await collectionWith([
      { title: 'Log', chunks: everywhere },
      { title: 'Rare', chunks: ['Routine heartbeat entry with a zeppelin anomaly'] },
    ]);
    assert.deepEqual(
      await lexical.search({ collectionKey: key, query: 'heartbeat', limit: 5 }),
      [],
    );
    const hits = await lexical.search({
      collectionKey: key,
      query: 'heartbeat zeppelin',
      limit: 5,
    });
    assert.deepEqual(
      hits.map((h) => h.id),
      ids[1].chunkIds,
    );
  });

  it('reads only the rarest terms’ chunks in a large collection, and scores them with every term', async () => {
    // zeppelin's 5 chunks and kestrel's 1000 fit CANDIDATE_CHUNKS (2000); pelican's 1000 more
    // would not, and the collection (2003 chunks) does not fit either.
    assert.ok(5 + COMMON_TERM_CHUNKS <= CANDIDATE_CHUNKS);
    assert.ok(5 + 2 * COMMON_TERM_CHUNKS > CANDIDATE_CHUNKS);
    const filler = (word: string, count: number) =>
      Array.from({ length: count }, (_, i) => `${word} entry ${i}`);
    const { key, ids } = await collectionWith([
      { title: 'Alpha', chunks: filler('kestrel', COMMON_TERM_CHUNKS - 2) },
      { title: 'Beta', chunks: filler('pelican', COMMON_TERM_CHUNKS - 2) },
      {
        title: 'Rare',
        chunks: [
          'zeppelin',
          'zeppelin',
          'zeppelin pelican',
          'zeppelin kestrel',
          'zeppelin and more',
          'pelican only',
          'kestrel only',
        ],
      },
    ]);
    const hits = await lexical.search({
      collectionKey: key,
      query: 'pelican zeppelin kestrel',
      limit: 10,
    });
    const rare = ids[2].chunkIds;
    // Candidates: zeppelin (5 chunks), then kestrel (1000, first by name of the two at 1000).
    const pelicanOnly = [...ids[1].chunkIds, rare[5]];
    assert.ok(hits.length > 0);
    assert.ok(!hits.some((h) => pelicanOnly.includes(h.id)), 'a pelican-only chunk was read');
    // pelican still scores the candidates: its chunk ranks with kestrel's, above zeppelin alone.
    assert.deepEqual(new Set(hits.slice(0, 2).map((h) => h.id)), new Set([rare[2], rare[3]]));
  });

  it('picks candidate terms rarest first while their chunks fit, every term when the collection does', async () => {
    const { key, ids } = await collectionWith([
      { title: 'Zz', chunks: ['common', 'rare', 'mid', 'midtwo'] },
    ]);
    const [common, rare, mid, midTwo] = ids[0].chunkIds;
    // The counts a large collection would have, written over the real ones (the triggers keep
    // them exact; the admin login can override them), then read back from the replica.
    const admin = new Client(testDb.primaryUrl);
    await admin.connect();
    const counts = async (total: number, chunks: Record<string, number>) => {
      for (const [term, count] of Object.entries({ ...chunks, '': total })) {
        await admin.query(
          'UPDATE chunk_term_counts SET chunks = $3 WHERE collection_id = $1 AND term = $2',
          [key, term, count],
        );
      }
      await waitFor(
        async () =>
          (
            await stack.database.read((db) =>
              db('chunk_term_counts').where({ collection_id: key, term: '' }).first(),
            )
          )?.chunks === total,
        10_000,
        'counts on the replica',
      );
    };
    const found = async (query: string) =>
      new Set((await lexical.search({ collectionKey: key, query, limit: 10 })).map((h) => h.id));
    try {
      // Rarest first: rare (10), mid and midtwo (800 each) fit in 1,610; common (900) would not.
      await counts(100_000, { common: 900, rare: 10, mid: 800, midtwo: 800 });
      assert.deepEqual(await found('common rare mid midtwo'), new Set([rare, mid, midTwo]));
      // A collection no larger than the bound is searched with every term.
      await counts(CANDIDATE_CHUNKS, { common: 900, rare: 10, mid: 800, midtwo: 800 });
      assert.deepEqual(await found('common rare mid midtwo'), new Set([common, rare, mid, midTwo]));
      // The rarest qualifying term is always a candidate.
      await counts(100_000, { common: COMMON_TERM_CHUNKS, rare: 10, mid: 800, midtwo: 800 });
      assert.deepEqual(await found('common'), new Set([common]));
    } finally {
      await admin.end();
    }
  });

  it('stays inside the collection and applies document and metadata filters', async () => {
    const text = 'Redis eviction storm during the cache warm-up';
    const a = await collectionWith([
      { title: 'One', chunks: [text], metadata: { team: 'sre' } },
      { title: 'Two', chunks: [text], metadata: { team: 'data' } },
    ]);
    const other = await collectionWith([{ title: 'Other', chunks: [text] }]);
    const search = (filter?: Parameters<PostgresLexicalSearch['search']>[0]['filter']) =>
      lexical.search({ collectionKey: a.key, query: 'redis eviction', limit: 10, filter });

    const all = await search();
    assert.deepEqual(
      new Set(all.map((h) => h.documentId)),
      new Set(a.ids.map((d) => d.documentId)),
    );
    assert.ok(!all.some((h) => h.documentId === other.ids[0].documentId));
    assert.deepEqual(
      (await search({ metadata: { team: 'data' } })).map((h) => h.documentId),
      [a.ids[1].documentId],
    );
    assert.deepEqual(
      (await search({ documentIds: [a.ids[0].documentId, 'not-a-uuid'] })).map((h) => h.documentId),
      [a.ids[0].documentId],
    );
    assert.deepEqual(await search({ documentIds: ['not-a-uuid'] }), []);
    assert.deepEqual(await search({ documentIds: [] }), []);
  });

  it('finds nothing (and does not fail) for a question of stopwords or punctuation only', async () => {
    const { key } = await collectionWith([{ title: 'T', chunks: ['Anything at all.'] }]);
    for (const query of ['what is it that they were', '?!', 'zzzunknownword']) {
      assert.deepEqual(await lexical.search({ collectionKey: key, query, limit: 5 }), [], query);
    }
  });

  it('the index migration backfills rows written before the trigger and builds a valid GIN index', async () => {
    const { ids } = await collectionWith([{ title: 'Backfill', chunks: ['Vault unseal keys'] }]);
    const db = stack.database.primary;
    // As left by a version without search_vector: the rows unindexed, no index yet.
    await db.raw('DROP INDEX chunks_search_vector_idx');
    await db.raw('UPDATE chunks SET search_vector = NULL');
    await indexMigration.up(db);
    const { rows } = await db.raw(
      'SELECT count(*)::int AS n FROM chunks WHERE search_vector IS NULL',
    );
    assert.equal(rows[0].n, 0);
    const index = await db.raw(
      "SELECT indisvalid AS valid FROM pg_index WHERE indexrelid = to_regclass('chunks_search_vector_idx')",
    );
    assert.deepEqual(index.rows, [{ valid: true }]);
    const options = await db.raw(
      "SELECT reloptions FROM pg_class WHERE oid = to_regclass('chunks_search_vector_idx')",
    );
    assert.deepEqual(options.rows[0].reloptions, ['fastupdate=off']);
    const { rows: matched } = await db.raw(
      "SELECT id FROM chunks WHERE search_vector @@ 'unseal'::tsquery AND id = ?",
      [ids[0].chunkIds[0]],
    );
    assert.equal(matched.length, 1);
    // The migration's session timeouts do not leak into the pooled connection it used.
    const settings = await db.raw("SELECT current_setting('statement_timeout') AS s");
    assert.equal(settings.rows[0].s, '5s');
  });
});
