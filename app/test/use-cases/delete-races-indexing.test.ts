import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createLogger } from '../../src/observability/logger';
import { InProcessVectorStore } from '../../src/stores/vector/in-process-vector-store';
import { CollectionUseCases } from '../../src/use-cases/collections';
import { DocumentUseCases } from '../../src/use-cases/documents';
import { systemPrincipal, testAccess } from '../support/test-access';
import { startDataStack, type DataStack } from '../stores/postgres/data-stack';
import { createTestDatabase, type TestDatabase } from '../stores/postgres/test-database';

// Every transaction that locks a collection and its documents takes them in one order (collection
// first), so deleting a collection while the indexer completes jobs and a document is deleted never
// deadlocks. The race runs many times on the real primary: a deadlock shows up as a rejected delete
// (40P01), which the API answered with a 500, leaving the collection in place.

const iterations = 50;

describe('deleting a collection while its documents are indexed and deleted', function () {
  this.timeout(180_000);
  let testDb: TestDatabase;
  let stack: DataStack;
  let collections: CollectionUseCases;
  let documents: DocumentUseCases;
  const vectors = new InProcessVectorStore(8);

  before(async () => {
    testDb = await createTestDatabase('delete_races');
    stack = await startDataStack(testDb);
    const logger = createLogger({ level: 'silent', service: 'test' });
    const { access } = testAccess();
    collections = new CollectionUseCases({
      collections: stack.collections,
      vectors,
      embedding: { model: 'm', dimensions: 8 },
      logger,
      access,
    });
    documents = new DocumentUseCases({
      collections: stack.collections,
      documents: stack.documents,
      vectors,
      logger,
      access,
    });
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

  /** Losing the race to the collection delete is a legitimate "not found". */
  const unlessGone = (err: Error) => {
    if (err.name !== 'NotFoundError') throw err;
  };

  it(`never deadlocks and leaves nothing behind (${iterations} races)`, async () => {
    const failures: string[] = [];
    for (let i = 0; i < iterations; i++) {
      const id = `race-${i}`;
      const collection = await collections.create(systemPrincipal, { id });
      const docs = [];
      for (const source of ['a', 'b', 'c']) {
        docs.push(
          (
            await documents.ingest(systemPrincipal, id, {
              source,
              mediaType: 'text/plain',
              content: `${source}${i}`,
            })
          ).document,
        );
      }
      const outcomes = await Promise.allSettled([
        stack.indexing.completeIndexing(docs[0].id, docs[0].contentHash, chunks(50)),
        collections.delete(systemPrincipal, id),
        stack.indexing.completeIndexing(docs[1].id, docs[1].contentHash, chunks(50)),
        documents.delete(systemPrincipal, id, docs[2].id).catch(unlessGone),
      ]);
      for (const outcome of outcomes) {
        if (outcome.status === 'rejected') failures.push(`#${i}: ${String(outcome.reason)}`);
      }
      const left = await stack.database.primary.raw(
        `SELECT (SELECT count(*) FROM collections WHERE id = :key)::int AS collections,
                (SELECT count(*) FROM documents WHERE collection_id = :key)::int AS documents,
                (SELECT count(*) FROM chunks WHERE collection_id = :key)::int AS chunks`,
        { key: collection.key },
      );
      if (failures.length === 0) {
        assert.deepEqual(left.rows[0], { collections: 0, documents: 0, chunks: 0 }, `race #${i}`);
      }
    }
    assert.deepEqual(failures, []);
  });
});
