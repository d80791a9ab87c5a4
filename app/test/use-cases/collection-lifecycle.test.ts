import assert from 'node:assert/strict';
import { createLogger } from '../../src/observability/logger';
import { chunkDocument } from '../../src/rag/chunking/chunker';
import { LocalEmbedder } from '../../src/rag/embedding/local-embedder';
import { IngestionWorker } from '../../src/rag/ingestion/ingestion-worker';
import { InProcessVectorStore } from '../../src/stores/vector/in-process-vector-store';
import { CollectionUseCases } from '../../src/use-cases/collections';
import { DocumentUseCases } from '../../src/use-cases/documents';
import { systemPrincipal, testAccess } from '../support/test-access';
import { startDataStack, type DataStack } from '../stores/postgres/data-stack';
import { createTestDatabase, waitFor, type TestDatabase } from '../stores/postgres/test-database';

// The use cases own the operations that span Postgres and the vector store: a delete leaves no
// rows and no vectors, and an id created again is a new incarnation that starts empty.

describe('collection and document use cases across both stores', function () {
  this.timeout(60_000);
  let testDb: TestDatabase;
  let stack: DataStack;
  let collections: CollectionUseCases;
  let documents: DocumentUseCases;
  let worker: IngestionWorker;
  const embedder = new LocalEmbedder(64);
  const vectors = new InProcessVectorStore(64);

  before(async () => {
    testDb = await createTestDatabase('use_cases');
    stack = await startDataStack(testDb);
    const logger = createLogger({ level: 'silent', service: 'test' });
    const { access } = testAccess();
    collections = new CollectionUseCases({
      collections: stack.collections,
      vectors,
      embedding: { model: embedder.model, dimensions: embedder.dimensions },
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
    worker = new IngestionWorker({
      indexing: stack.indexing,
      embedder,
      vectors,
      chunk: chunkDocument,
      chunkSize: 100,
      chunkOverlap: 10,
      embedBatchSize: 8,
      metrics: stack.metrics,
    });
  });
  after(async () => {
    await stack?.close();
    await testDb?.drop();
  });

  /** Ingests through the use case and indexes the job in this process (no queue workers run). */
  async function indexedDocument(collectionId: string, source: string) {
    const { document } = await documents.ingest(systemPrincipal, collectionId, {
      source,
      mediaType: 'text/markdown',
      content: `# ${source}\n\n${'Some runbook text to chunk. '.repeat(20)}`,
    });
    assert.equal(
      await worker.process({ documentId: document.id, contentHash: document.contentHash }),
      'indexed',
    );
    return document;
  }

  it('deleting a document removes its rows and vectors, and only its own', async () => {
    const collection = await collections.create(systemPrincipal, { id: 'doc-delete' });
    const kept = await indexedDocument('doc-delete', 'kept.md');
    const removed = await indexedDocument('doc-delete', 'removed.md');

    await documents.delete(systemPrincipal, 'doc-delete', removed.id);
    assert.equal(await stack.documents.get(removed.id, { fromPrimary: true }), undefined);
    assert.equal((await stack.documents.get(kept.id, { fromPrimary: true }))?.status, 'indexed');
    await assert.rejects(documents.delete(systemPrincipal, 'doc-delete', removed.id), {
      name: 'NotFoundError',
    });
    assert.equal(
      vectors.size(collection.key),
      (await stack.indexing.getChunkIds(kept.id)).length,
      'only the kept document has vectors',
    );
  });

  it('deleting a collection removes every row and vector; the id created again starts empty', async () => {
    const first = await collections.create(systemPrincipal, { id: 'recreated' });
    const document = await indexedDocument('recreated', 'a.md');
    assert.ok(vectors.size(first.key) > 0);

    await collections.delete(systemPrincipal, 'recreated');
    assert.equal(vectors.size(first.key), 0);
    assert.equal(await stack.indexing.getForIndexing(document.id), undefined);
    // Deletes are read from the primary; a replica may still show the row for up to its lag.
    assert.equal(await stack.collections.get('recreated', { fromPrimary: true }), undefined);
    await assert.rejects(collections.delete(systemPrincipal, 'recreated'), {
      name: 'NotFoundError',
    });

    const second = await collections.create(systemPrincipal, { id: 'recreated' });
    assert.notEqual(second.key, first.key);
    assert.equal(second.indexVersion, 0);
    await waitFor(
      async () =>
        (await documents.list(systemPrincipal, 'recreated', { limit: 10 })).collection.key ===
        second.key,
      10_000,
      'the replica to show the new incarnation',
    );
    assert.deepEqual(
      (await documents.list(systemPrincipal, 'recreated', { limit: 10 })).page.items,
      [],
    );
  });
});
