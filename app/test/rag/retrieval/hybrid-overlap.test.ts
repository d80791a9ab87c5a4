import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { createLogger } from '../../../src/observability/logger';
import { HybridRetriever } from '../../../src/rag/retrieval/hybrid-retriever';
import type { Database } from '../../../src/stores/postgres/database';
import { PostgresLexicalSearch } from '../../../src/stores/postgres/lexical-search-repository';
import { InProcessVectorStore } from '../../../src/stores/vector/in-process-vector-store';
import type { VectorSearchRequest } from '../../../src/stores/vector/vector-store';
import { startDataStack, type DataStack } from '../../stores/postgres/data-stack';
import { createTestDatabase, type TestDatabase } from '../../stores/postgres/test-database';

// The in-process index searches synchronously, so the order of the two halves of hybrid retrieval
// decides whether they overlap: the lexical query must be on its way to Postgres before the
// vector scan takes the thread, not queued behind it. Real Postgres, the real index; the test only
// records the order in which the query was sent (knex's `query` event) and the scan began.

describe('hybrid retrieval overlaps the lexical query with the vector scan (real Postgres)', function () {
  this.timeout(30_000);
  let testDb: TestDatabase;
  let stack: DataStack;
  const events: string[] = [];

  class RecordingIndex extends InProcessVectorStore {
    override search(request: VectorSearchRequest) {
      events.push('vector scan');
      return super.search(request);
    }
  }

  before(async () => {
    testDb = await createTestDatabase('hybrid_overlap');
    stack = await startDataStack(testDb);
  });
  after(async () => {
    await stack?.close();
    await testDb?.drop();
  });

  it('sends the lexical query before the vector scan starts', async () => {
    const collection = await stack.collections.create({
      id: `overlap-${process.pid}`,
      embeddingModel: 'local-hash-4',
      dimensions: 4,
    });
    const vectors = new RecordingIndex(4);
    await vectors.upsert([
      {
        id: randomUUID(),
        vector: [1, 0, 0, 0],
        payload: { collectionId: collection.key, documentId: randomUUID() },
      },
    ]);
    const hooked = new WeakSet<Knex>();
    const observed = {
      read: <T>(fn: (db: Knex) => Promise<T>) =>
        stack.database.read((db) => {
          if (!hooked.has(db)) {
            hooked.add(db);
            db.on('query', () => events.push('lexical query sent'));
          }
          return fn(db);
        }),
    } as Database;
    const retriever = new HybridRetriever({
      vectors,
      lexical: new PostgresLexicalSearch(observed),
      rrfK: 60,
      metrics: stack.metrics,
      logger: createLogger({ level: 'silent', service: 'test' }),
    });
    const request = {
      collectionKey: collection.key,
      query: 'replica lag',
      vector: [1, 0, 0, 0],
      topK: 3,
    };
    // The first search opens the pool's connection; the second finds it idle, as under load.
    await retriever.retrieve(request);
    events.length = 0;
    const { mode } = await retriever.retrieve(request);
    assert.equal(mode, 'hybrid');
    assert.deepEqual(events.slice(0, 2), ['lexical query sent', 'vector scan']);
  });
});
