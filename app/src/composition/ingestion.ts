import type { Config } from '../config';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import { chunkDocument } from '../rag/chunking/chunker';
import type { Embedder } from '../rag/embedding/embedder';
import { IngestionWorker } from '../rag/ingestion/ingestion-worker';
import type { VectorStore } from '../stores/vector/vector-store';
import type { DataLayer } from './data-layer';

/** Starts this process's ingestion workers on the queue (every API pod runs them). */
export async function startIngestionWorkers(
  config: Config,
  deps: {
    data: DataLayer;
    embedder: Embedder;
    vectors: VectorStore;
    metrics: Metrics;
    logger: Logger;
  },
): Promise<void> {
  const { data, embedder, vectors, metrics, logger } = deps;
  await data.queue.startWorkers(
    new IngestionWorker({
      indexing: data.indexing,
      embedder,
      vectors,
      chunk: chunkDocument,
      chunkSize: config.CHUNK_SIZE,
      chunkOverlap: config.CHUNK_OVERLAP,
      embedBatchSize: config.EMBEDDER_BATCH_SIZE,
      metrics,
      onEvent: (event) =>
        logger.log(
          event.type === 'failed' || event.type === 'dead' ? 'warn' : 'info',
          `ingest ${event.type}`,
          event,
        ),
    }),
  );
}
