import type { Database } from '../stores/postgres/database';
import type { Logger } from '../observability/logger';
import type { Embedder } from '../rag/embedding/embedder';
import { VectorIndexRebuild } from '../rag/retrieval/rehydrate-vector-index';
import type { VectorStore } from '../stores/vector/vector-store';
import type { Closers } from './closers';

/**
 * Makes the vector store ready. The in-process index is memory: it is rebuilt from Postgres in the
 * background, so an embedder outage at start-up shows as "not ready" rather than a crash loop.
 * Returns the rebuild (undefined for a store that persists its vectors).
 */
export async function prepareVectorIndex(deps: {
  db: Database;
  embedder: Embedder;
  vectors: VectorStore;
  logger: Logger;
  closers: Closers;
}): Promise<VectorIndexRebuild | undefined> {
  const { db, embedder, vectors, logger, closers } = deps;
  closers.push(() => vectors.close());
  // A vector store unreachable at start-up degrades the service instead of crash-looping it: the
  // vector_store probe retries ensureReady until it succeeds.
  await vectors
    .ensureReady()
    .catch((err) => logger.warn('vector store not ready at start-up', { err }));
  if (vectors.kind !== 'in-process') return undefined;
  const rebuild = new VectorIndexRebuild({
    db,
    embedder,
    vectors,
    onRestored: (chunks) =>
      logger.info('in-process vector index rebuilt from postgres', { chunks }),
    onError: (err, retryInMs) =>
      logger.warn('rebuilding the in-process vector index failed; retrying', { err, retryInMs }),
  });
  rebuild.start();
  closers.push(async () => rebuild.stop());
  return rebuild;
}
