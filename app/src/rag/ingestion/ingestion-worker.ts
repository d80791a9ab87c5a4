import type { Metrics } from '../../observability/metrics';
import type { ChunkInput } from '../../domain/chunk';
import type { IndexingRepository } from '../../stores/postgres/indexing-repository';
import type { Attempt, IngestHandlers, IngestJob } from '../../stores/queue/ingest-queue';
import type { VectorPoint, VectorStore } from '../../stores/vector/vector-store';
import type { Embedder } from '../embedding/embedder';

// Turns one queued document version into searchable chunks: chunk → embed → upsert vectors →
// drop the document's stale vectors → commit chunk rows and status. Every step is idempotent
// (deterministic chunk ids, upserts, "only if the content hash still matches"), so re-running a
// job after a crash at any point converges to the same state.

export type ChunkFunction = (
  text: string,
  options: {
    documentId: string;
    mediaType: 'text/markdown' | 'text/plain';
    size: number;
    overlap: number;
  },
) => ChunkInput[];

export interface IngestionWorkerOptions {
  readonly indexing: IndexingRepository;
  readonly embedder: Embedder;
  readonly vectors: VectorStore;
  readonly chunk: ChunkFunction;
  readonly chunkSize: number;
  readonly chunkOverlap: number;
  /** Texts per embedder call. */
  readonly embedBatchSize: number;
  readonly metrics: Metrics;
  readonly onEvent?: (event: IngestionEvent) => void;
}

export type IngestionEvent =
  | { type: 'indexed'; documentId: string; chunks: number; lagSeconds: number }
  | { type: 'skipped'; documentId: string; reason: 'deleted' | 'superseded' }
  | { type: 'failed'; documentId: string; error: string; willRetry: boolean }
  | { type: 'dead'; documentId: string; error: string | null };

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

export type ProcessResult = 'indexed' | 'skipped';

export class IngestionWorker implements IngestHandlers {
  constructor(private readonly options: IngestionWorkerOptions) {}

  async process(job: IngestJob, _attempt?: Attempt): Promise<ProcessResult> {
    const { indexing, embedder, vectors, metrics } = this.options;
    const document = await indexing.getForIndexing(job.documentId);
    if (!document) return this.skip(job, 'deleted');
    if (document.contentHash !== job.contentHash) return this.skip(job, 'superseded');
    if (!(await indexing.markIndexing(job.documentId, job.contentHash))) {
      return this.skip(job, 'superseded');
    }

    const chunks = this.options.chunk(document.content, {
      documentId: document.id,
      mediaType: document.mediaType,
      size: this.options.chunkSize,
      overlap: this.options.chunkOverlap,
    });

    const batch = Math.max(1, this.options.embedBatchSize);
    for (let i = 0; i < chunks.length; i += batch) {
      // A local embedder and an in-process index resolve without any I/O, so without this a
      // megabyte document would embed from start to end in one turn of the event loop, and
      // /healthz (liveness) would go unanswered meanwhile.
      await yieldToEventLoop();
      const slice = chunks.slice(i, i + batch);
      const embedded = await embedder.embed(slice.map((c) => c.text));
      const points: VectorPoint[] = slice.map((c, j) => ({
        id: c.id,
        vector: embedded[j],
        text: c.text,
        payload: {
          collectionId: document.collectionKey,
          documentId: document.id,
          metadata: document.metadata,
        },
      }));
      await vectors.upsert(points);
    }
    const keepIds = chunks.map((c) => c.id);
    await vectors.deleteDocument(document.collectionKey, document.id, keepIds);

    const completed = await indexing.completeIndexing(document.id, job.contentHash, chunks);
    if (!completed) {
      // Deleted or replaced while we worked: don't leave our vectors behind.
      await this.reconcileVectors(document.collectionKey, document.id);
      return this.skip(job, 'superseded');
    }
    const lagSeconds = Math.max(0, (Date.now() - completed.acceptedAt.getTime()) / 1000);
    metrics.ingestLag.observe(lagSeconds);
    metrics.ingestedChunks.inc(chunks.length);
    this.options.onEvent?.({
      type: 'indexed',
      documentId: document.id,
      chunks: chunks.length,
      lagSeconds,
    });
    return 'indexed';
  }

  async failed(job: IngestJob, error: Error, willRetry: boolean): Promise<void> {
    await this.options.indexing.markFailed(job.documentId, job.contentHash, error.message);
    this.options.onEvent?.({
      type: 'failed',
      documentId: job.documentId,
      error: error.message,
      willRetry,
    });
  }

  async dead(job: IngestJob, lastError: string | null): Promise<void> {
    await this.options.indexing.markDead(job.documentId, job.contentHash, lastError);
    this.options.onEvent?.({ type: 'dead', documentId: job.documentId, error: lastError });
  }

  /** Leaves exactly the vectors of the document's committed chunks (none if it is gone). */
  private async reconcileVectors(collectionKey: string, documentId: string): Promise<void> {
    const { indexing, vectors } = this.options;
    const current = await indexing.getForIndexing(documentId);
    if (!current) {
      await vectors.deleteDocument(collectionKey, documentId);
    } else if (current.status === 'indexed') {
      await vectors.deleteDocument(
        collectionKey,
        documentId,
        await indexing.getChunkIds(documentId),
      );
    }
    // Otherwise a newer job for this document is pending; it replaces the vectors itself.
  }

  private skip(job: IngestJob, reason: 'deleted' | 'superseded'): ProcessResult {
    this.options.onEvent?.({ type: 'skipped', documentId: job.documentId, reason });
    return 'skipped';
  }
}
