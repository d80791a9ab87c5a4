import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig } from '../../src/config';
import type { Metrics } from '../../src/observability/metrics';
import { chunkDocument } from '../../src/rag/chunking/chunker';
import type { Embedder } from '../../src/rag/embedding/embedder';
import { IngestionWorker } from '../../src/rag/ingestion/ingestion-worker';
import type { CollectionsRepository } from '../../src/stores/postgres/collections-repository';
import type { Database } from '../../src/stores/postgres/database';
import type { IndexingRepository } from '../../src/stores/postgres/indexing-repository';
import type { VectorStore } from '../../src/stores/vector/vector-store';

// The runbook corpus indexed the way the service indexes it (app/src/rag/corpus/demo-corpus.ts
// picks the files, sources and titles; the ingestion worker chunks, embeds, upserts vectors and
// writes the chunk rows), minus the queue: each document is processed in this process, so the
// evaluation does not wait on job polling.

export const repoRoot = path.resolve(__dirname, '../../..');
export const runbooksDir = path.join(repoRoot, 'runbooks');

export interface RunbookIndex {
  readonly collectionKey: string;
  /** Document id → source (`runbooks/<path>`), for judging hits. */
  readonly sources: ReadonlyMap<string, string>;
  readonly chunks: number;
}

export async function indexRunbooks(deps: {
  db: Database;
  collections: CollectionsRepository;
  indexing: IndexingRepository;
  embedder: Embedder;
  vectors: VectorStore;
  metrics: Metrics;
  collectionName: string;
}): Promise<RunbookIndex> {
  const { db, embedder } = deps;
  const settings = loadConfig({});
  const collection = await deps.collections.create({
    id: deps.collectionName,
    embeddingModel: embedder.model,
    dimensions: embedder.dimensions,
  });
  const worker = new IngestionWorker({
    indexing: deps.indexing,
    embedder,
    vectors: deps.vectors,
    chunk: chunkDocument,
    chunkSize: settings.CHUNK_SIZE,
    chunkOverlap: settings.CHUNK_OVERLAP,
    embedBatchSize: settings.EMBEDDER_BATCH_SIZE,
    metrics: deps.metrics,
  });
  const names = (await readdir(runbooksDir, { recursive: true }))
    .filter((n) => n.endsWith('.md'))
    .map((n) => n.split(path.sep).join('/'))
    .sort();
  const sources = new Map<string, string>();
  let chunks = 0;
  for (const name of names) {
    const content = await readFile(path.join(runbooksDir, ...name.split('/')), 'utf8');
    if (!content.trim()) continue;
    const source = `runbooks/${name}`;
    const contentHash = createHash('sha256').update(content).digest('hex');
    const [row] = (await db
      .primary('documents')
      .insert({
        collection_id: collection.key,
        source,
        title: /^#\s+(.+)$/m.exec(content)?.[1]?.trim() ?? path.basename(name, '.md'),
        media_type: 'text/markdown',
        content,
        content_hash: contentHash,
        size_bytes: Buffer.byteLength(content),
        metadata: { kind: 'runbook' },
      })
      .returning('id')) as { id: string }[];
    await worker.process({ documentId: row.id, contentHash });
    sources.set(row.id, source);
    const [{ n }] = (await db.primary('chunks').where({ document_id: row.id }).count('* as n')) as {
      n: string;
    }[];
    chunks += Number(n);
  }
  return { collectionKey: collection.key, sources, chunks };
}
