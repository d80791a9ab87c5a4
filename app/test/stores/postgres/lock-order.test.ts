import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startDataStack, type DataStack } from './data-stack';
import { createTestDatabase, type TestDatabase } from './test-database';

// Every transaction that locks a collection and its documents takes them in one order (collection
// first), so a collection delete racing the indexer or a document delete never deadlocks. The race
// is run many times on the real primary: a deadlock there shows up as a rejected operation
// (40P01), which the API answered with a 500 and the collection left in place.

const iterations = 50;

describe('lock order: collection delete racing indexing and document deletes', function () {
  this.timeout(180_000);
  let testDb: TestDatabase;
  let stack: DataStack;

  before(async () => {
    testDb = await createTestDatabase('lock_order');
    stack = await startDataStack(testDb);
  });
  after(async () => {
    await stack?.close();
    await testDb?.drop();
  });

  const chunks = (count: number) =>
    Array.from({ length: count }, (_, i) => ({
      id: randomUUID(),
      ordinal: i,
      text: `chunk ${i}`,
      headingPath: [],
      start: i,
      end: i + 1,
    }));

  it(`never deadlocks and leaves nothing behind (${iterations} races)`, async () => {
    const failures: string[] = [];
    for (let i = 0; i < iterations; i++) {
      const collection = await stack.collections.create({
        id: `race-${process.pid}-${i}`,
        embeddingModel: 'm',
        dimensions: 8,
      });
      const docs = [];
      for (const source of ['a', 'b', 'c']) {
        const { document } = await stack.documents.ingest(collection.key, {
          source,
          mediaType: 'text/plain',
          content: `${source} ${i}`,
        });
        docs.push(document);
      }
      const outcomes = await Promise.allSettled([
        stack.indexing.completeIndexing(docs[0].id, docs[0].contentHash, chunks(50)),
        stack.collections.delete(collection.key),
        stack.indexing.completeIndexing(docs[1].id, docs[1].contentHash, chunks(50)),
        stack.documents.delete(collection.key, docs[2].id).catch((err: Error) => {
          // Losing the race to the collection delete is a legitimate "not found".
          if (err.name === 'NotFoundError') return undefined;
          throw err;
        }),
      ]);
      for (const outcome of outcomes) {
        if (outcome.status === 'rejected') failures.push(`#${i}: ${String(outcome.reason)}`);
      }
      const left = await stack.database.primary.raw(
        `SELECT (SELECT count(*) FROM collections WHERE id = :id)::int AS collections,
                (SELECT count(*) FROM documents WHERE collection_id = :id)::int AS documents,
                (SELECT count(*) FROM chunks WHERE collection_id = :id)::int AS chunks`,
        { id: collection.key },
      );
      if (failures.length === 0) {
        assert.deepEqual(left.rows[0], { collections: 0, documents: 0, chunks: 0 }, `race #${i}`);
      }
    }
    assert.deepEqual(failures, []);
  });
});
