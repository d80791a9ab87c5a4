import type { Config } from '../config';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import { chunkDocument } from '../rag/chunking/chunker';
import type { Embedder } from '../rag/embedding/embedder';
import { IngestionWorker } from '../rag/ingestion/ingestion-worker';
import type { IngestHandlers } from '../stores/queue/ingest-queue';
import type { VectorStore } from '../stores/vector/vector-store';
import type { FaultFile } from '../faults/fault-file';
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
    /** The fire drills' faults (FAULT_INJECTION_FILE): a paused ingestion holds its jobs. */
    faults?: FaultFile;
  },
): Promise<void> {
  const { data, embedder, vectors, metrics, logger, faults } = deps;
  const worker = new IngestionWorker({
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
  });
  await data.queue.startWorkers(faults ? pausable(worker, faults) : worker);
}

/** Holds each job until the drill's pause ends, the way a stalled worker would. */
function pausable(handlers: IngestHandlers, faults: FaultFile): IngestHandlers {
  return {
    async process(job, attempt) {
      while (faults.current().ingestionPaused) await new Promise((r) => setTimeout(r, 200));
      return handlers.process(job, attempt);
    },
    failed: (job, error, willRetry) => handlers.failed(job, error, willRetry),
    dead: (job, lastError) => handlers.dead(job, lastError),
  };
}
