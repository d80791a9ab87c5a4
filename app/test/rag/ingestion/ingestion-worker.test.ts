import assert from 'node:assert/strict';
import { chunkDocument } from '../../../src/rag/chunking/chunker';
import { LocalEmbedder } from '../../../src/rag/embedding/local-embedder';
import { IngestionWorker } from '../../../src/rag/ingestion/ingestion-worker';
import { InProcessVectorStore } from '../../../src/stores/vector/in-process-vector-store';
import { startDataStack, type DataStack } from '../../stores/postgres/data-stack';
import {
  createTestDatabase,
  metricValue,
  waitFor,
  type TestDatabase,
} from '../../stores/postgres/test-database';

// End to end through the real queue, chunker, local embedder and in-process vector store:
// chunk rows in Postgres and vectors in the store always describe the same, current content.

const dims = 64;

describe('IngestionWorker', function () {
  this.timeout(30_000);
  let testDb: TestDatabase;
  let stack: DataStack;
  let vectors: InProcessVectorStore;
  let worker: IngestionWorker;
  const embedder = new LocalEmbedder(dims);

  before(async () => {
    testDb = await createTestDatabase('ingestion');
    stack = await startDataStack(testDb);
    vectors = new InProcessVectorStore(dims);
    await vectors.ensureReady();
    worker = new IngestionWorker({
      indexing: stack.indexing,
      embedder,
      vectors,
      chunk: chunkDocument,
      chunkSize: 120,
      chunkOverlap: 20,
      embedBatchSize: 4,
      metrics: stack.metrics,
    });
    await stack.queue.startWorkers(worker);
  });
  after(async () => {
    await stack?.close();
    await testDb?.drop();
  });

  async function vectorIds(collectionId: string, documentId: string): Promise<string[]> {
    const hits = await vectors.search({
      collectionId,
      vector: (await embedder.embed(['anything']))[0],
      topK: 1000,
      filter: { documentIds: [documentId] },
    });
    return hits.map((h) => h.id).sort();
  }

  async function indexed(documentId: string, contentHash: string) {
    await waitFor(
      async () => {
        const d = await stack.documents.get(documentId, { fromPrimary: true });
        return d?.status === 'indexed' && d.contentHash === contentHash;
      },
      15_000,
      'document indexed',
    );
    return (await stack.documents.get(documentId, { fromPrimary: true }))!;
  }

  const v1 = [
    '# Disk full',
    '',
    'When the disk fills up, the database stops accepting writes and the API returns errors.',
    '',
    '## Diagnose',
    '',
    'Check which volume is full with df and find the largest directories with du.',
    '',
    '## Mitigate',
    '',
    'Delete old WAL archives only after confirming the replica has replayed them.',
  ].join('\n');
  const v2 = [
    '# Disk full',
    '',
    'Grow the volume online; the platform supports resizing without a restart.',
  ].join('\n');

  it('indexes, replaces on changed content without stale rows or vectors, and deletes', async () => {
    const c = await stack.collections.create({
      id: 'runbooks',
      embeddingModel: embedder.model,
      dimensions: dims,
    });
    const first = await stack.documents.ingest(c.key, {
      source: 'disk-full.md',
      mediaType: 'text/markdown',
      content: v1,
      metadata: { team: 'sre' },
    });
    const doc1 = await indexed(first.document.id, first.document.contentHash);
    const rows1 = await stack.indexing.getChunkIds(doc1.id);
    const expected1 = chunkDocument(v1, {
      documentId: doc1.id,
      mediaType: 'text/markdown',
      size: 120,
      overlap: 20,
    });
    assert.ok(expected1.length >= 3, 'the fixture spans several chunks');
    assert.deepEqual(
      rows1,
      expected1.map((c) => c.id),
      'chunk rows are the chunker output, in order',
    );
    assert.equal(doc1.chunkCount, expected1.length);
    assert.deepEqual(
      await vectorIds(c.key, doc1.id),
      [...rows1].sort(),
      'one vector per chunk row',
    );
    const hit = (
      await vectors.search({
        collectionId: c.key,
        vector: (await embedder.embed(['which volume is full df du']))[0],
        topK: 1,
        filter: { metadata: { team: 'sre' } },
      })
    )[0];
    const [cited] = await stack.chunks.getChunks([hit.id], { fromPrimary: true });
    assert.match(cited.text, /df/, 'search finds the right chunk and Postgres has its text');
    assert.deepEqual(cited.headingPath, ['Disk full', 'Diagnose']);
    const version1 = (await stack.collections.getByKey(c.key, { fromPrimary: true }))!.indexVersion;
    assert.ok(version1 >= 1);

    const second = await stack.documents.ingest(c.key, {
      source: 'disk-full.md',
      mediaType: 'text/markdown',
      content: v2,
      metadata: { team: 'sre' },
    });
    assert.equal(second.outcome, 'replaced');
    const doc2 = await indexed(doc1.id, second.document.contentHash);
    const rows2 = await stack.indexing.getChunkIds(doc2.id);
    assert.equal(doc2.chunkCount, rows2.length);
    assert.deepEqual(await vectorIds(c.key, doc2.id), [...rows2].sort(), 'no stale vectors');
    assert.equal(
      rows1.filter((id) => rows2.includes(id)).length,
      0,
      'all old chunks replaced (their text changed)',
    );
    assert.deepEqual(
      await stack.chunks.getChunks(rows1, { fromPrimary: true }),
      [],
      'no stale rows',
    );
    assert.ok(
      (await stack.collections.getByKey(c.key, { fromPrimary: true }))!.indexVersion > version1,
    );

    assert.ok(
      (await metricValue(stack.metrics, 'rag_ingested_chunks_total'))! >=
        rows1.length + rows2.length,
    );
    const lag = (await stack.metrics.ingestLag.get()).values.find(
      (v) => v.metricName === 'rag_ingest_lag_seconds_count',
    );
    assert.ok(lag && lag.value >= 2, 'ingest lag observed per indexed version');

    // Delete as the API does: rows first (the repository), then the vectors.
    const removed = await stack.documents.delete(c.key, doc2.id);
    await vectors.deleteDocument(c.key, removed.id);
    assert.deepEqual(await stack.indexing.getChunkIds(doc2.id), []);
    assert.deepEqual(await vectorIds(c.key, doc2.id), []);
  });

  it('skips a job whose document was deleted or superseded, leaving nothing behind', async () => {
    const c = await stack.collections.create({
      id: 'skips',
      embeddingModel: embedder.model,
      dimensions: dims,
    });
    const { document } = await stack.documents.ingest(c.key, {
      source: 's',
      mediaType: 'text/plain',
      content: 'alpha beta',
    });
    const current = await indexed(document.id, document.contentHash);
    assert.equal(
      await worker.process({ documentId: document.id, contentHash: 'old-hash' }),
      'skipped',
    );
    assert.equal(
      (await stack.documents.get(document.id, { fromPrimary: true }))?.status,
      'indexed',
    );
    assert.equal((await vectorIds(c.key, document.id)).length, current.chunkCount);

    // Re-running the same job is harmless: same rows, same vectors.
    assert.equal(
      await worker.process({ documentId: document.id, contentHash: document.contentHash }),
      'indexed',
    );
    assert.equal((await vectorIds(c.key, document.id)).length, current.chunkCount);

    await stack.documents.delete(c.key, document.id);
    await vectors.deleteDocument(c.key, document.id);
    assert.equal(
      await worker.process({ documentId: document.id, contentHash: document.contentHash }),
      'skipped',
    );
    assert.deepEqual(await vectorIds(c.key, document.id), []);
  });
});
