import type { Database } from '../../stores/postgres/database';
import type { VectorStore } from '../../stores/vector/vector-store';
import type { Embedder } from '../embedding/embedder';

const batchSize = 512;
/** Texts embedded per call: the local embedder runs on the event loop, so the rebuild yields often. */
const embedSlice = 64;

/**
 * The in-process index lives in memory, but the chunks it indexes are durable in Postgres: on
 * start-up it is rebuilt from every chunk of every indexed document, so a restart never makes
 * acknowledged documents unsearchable. Returns the number of chunks restored.
 */
export async function rehydrateVectorIndex(deps: {
  db: Database;
  embedder: Embedder;
  vectors: VectorStore;
}): Promise<number> {
  const { db, embedder, vectors } = deps;
  let after = '00000000-0000-0000-0000-000000000000';
  let restored = 0;
  for (;;) {
    const rows: {
      id: string;
      document_id: string;
      collection_id: string;
      text: string;
      metadata: Record<string, string>;
    }[] = await db
      .primary('chunks as c')
      .join('documents as d', 'd.id', 'c.document_id')
      .join('collections as col', 'col.id', 'c.collection_id')
      .where('d.status', 'indexed')
      .andWhere('col.embedding_model', embedder.model)
      .andWhere('c.id', '>', after)
      .orderBy('c.id')
      .limit(batchSize)
      .select('c.id', 'c.document_id', 'c.collection_id', 'c.text', 'd.metadata');
    if (rows.length === 0) return restored;
    // Between slices the event loop serves /healthz and requests: a 100k-chunk rebuild with the
    // local embedder is tens of seconds of CPU that must not starve liveness.
    const embedded: Float32Array[] = [];
    for (let i = 0; i < rows.length; i += embedSlice) {
      embedded.push(...(await embedder.embed(rows.slice(i, i + embedSlice).map((r) => r.text))));
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    await vectors.upsert(
      rows.map((r, i) => ({
        id: r.id,
        vector: embedded[i],
        payload: { collectionId: r.collection_id, documentId: r.document_id, metadata: r.metadata },
      })),
    );
    restored += rows.length;
    after = rows[rows.length - 1].id;
  }
}

/**
 * Runs the rebuild in the background until it succeeds, so a dependency the rebuild needs (a
 * remote embedder, Postgres) being down at start-up delays readiness instead of crash-looping the
 * pod. Until it completes, readiness reports the vector store as not ready.
 */
export class VectorIndexRebuild {
  private done = false;
  private stopped = false;
  private lastError: string | undefined;
  private wake: (() => void) | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly deps: Parameters<typeof rehydrateVectorIndex>[0] & {
      onRestored: (chunks: number) => void;
      onError: (err: unknown, retryInMs: number) => void;
      maxDelayMs?: number;
    },
  ) {}

  start(): void {
    this.running ??= this.loop();
  }

  /** Settles when the rebuild succeeded or was stopped. */
  whenDone(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  get ready(): boolean {
    return this.done;
  }

  /** Why the index is not ready yet, for /readyz. */
  status(): string {
    return this.lastError
      ? `rebuild failed, retrying: ${this.lastError}`
      : 'rebuilding from postgres';
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.running;
  }

  private async loop(): Promise<void> {
    for (
      let delay = 500;
      !this.stopped;
      delay = Math.min(delay * 2, this.deps.maxDelayMs ?? 30_000)
    ) {
      try {
        this.deps.onRestored(await rehydrateVectorIndex(this.deps));
        this.done = true;
        return;
      } catch (err) {
        if (this.stopped) return;
        this.lastError = (err as Error).message;
        this.deps.onError(err, delay);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delay);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    }
  }
}
