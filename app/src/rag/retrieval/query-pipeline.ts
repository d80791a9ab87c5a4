import type { Collection } from '../../domain/collection';
import { ConflictError, DependencyUnavailableError } from '../../domain/errors';
import type { ChunkStore } from '../../domain/ports';
import type { QueryAnswer, QueryInput, QueryResult } from '../../domain/query';
import type { Metrics } from '../../observability/metrics';
import type { StageTimer } from '../../observability/stage-timer';
import type { Logger } from '../../observability/logger';
import type { Cache } from '../../stores/cache/cache';
import { queryCacheKey } from '../../stores/cache/cache-keys';
import type { Answerer, Passage } from '../answering/answerer';
import type { Embedder } from '../embedding/embedder';
import { UpstreamError } from '../embedding/openai-compatible-post';
import type { HybridRetriever } from './hybrid-retriever';
import { RecentChunks } from './recent-chunks';

/**
 * Cache lookup → embed → retrieve (vector search fused with lexical search, see
 * hybrid-retriever.ts) → chunk metadata (recently used rows, else the replica) → answer → cache store.
 * The cache key carries the collection's index version, so any re-ingest or delete that bumps it
 * makes earlier answers unreachable without a purge.
 */
export class QueryPipeline {
  constructor(
    private readonly deps: {
      chunks: ChunkStore;
      embedder: Embedder;
      retriever: HybridRetriever;
      answerer: Answerer;
      /** Answers when the configured answerer fails (a chat endpoint outage degrades, not fails). */
      fallbackAnswerer: Answerer;
      cache: Cache;
      cacheTtlSeconds: number;
      timer: StageTimer;
      metrics: Metrics;
      logger: Logger;
    },
  ) {
    this.recentChunks = new RecentChunks(deps.chunks, deps.metrics);
  }

  private readonly recentChunks: RecentChunks;

  /** @throws ConflictError when the collection was embedded with another model; DependencyUnavailableError */
  async run(collection: Collection, input: QueryInput): Promise<QueryAnswer> {
    const { embedder, retriever, answerer, timer } = this.deps;
    if (
      collection.embeddingModel !== embedder.model ||
      collection.dimensions !== embedder.dimensions
    ) {
      throw new ConflictError(
        `collection '${collection.id}' holds ${collection.embeddingModel} (${collection.dimensions} dims) vectors; this service embeds with ${embedder.model} (${embedder.dimensions} dims)`,
      );
    }
    const { indexVersion } = collection;

    const key = queryCacheKey({
      collectionId: collection.key,
      indexVersion,
      query: input.query,
      topK: input.topK,
      filter: input.filter,
      model: embedder.model,
    });
    // An answer at hand (a local copy) is returned without waiting on anything: the cache stage
    // of such a hit is the lookup that just happened (under a microsecond), and counting it.
    const atHand = this.deps.cache.peek(key);
    if (atHand) {
      return timer.timeSync('cache', () => {
        this.deps.metrics.cacheRequests.inc({ cache: 'query', result: 'hit' });
        return { cached: true, json: atHand };
      });
    }
    const cached = await timer.time('cache', () => this.cacheGet(key));
    if (cached !== undefined) return { cached: true, json: cached };

    const [vector] = await timer.time('embed', () =>
      embedder.embed([input.query]).catch((err: unknown) => {
        // The model server down or failing after retries; our own faults stay internal errors.
        if (err instanceof UpstreamError) {
          throw new DependencyUnavailableError('embedder', err.message, { cause: err });
        }
        throw err;
      }),
    );
    // The vector store's adapter reports its own failures as domain errors (unavailable → 503);
    // a lexical search failure degrades to vector search alone inside the retriever.
    const { hits, mode } = await timer.time('retrieve', () =>
      retriever.retrieve({
        collectionKey: collection.key,
        query: input.query,
        vector,
        topK: input.topK,
        filter: input.filter,
      }),
    );
    const chunks = hits.length
      ? await timer.time('db', () =>
          this.recentChunks.getChunks(
            collection,
            hits.map((h) => h.id),
          ),
        )
      : [];
    const byId = new Map(chunks.map((c) => [c.id, c]));
    // A hit without a chunk row belongs to a document deleted after the vector search snapshot or a
    // half-finished delete; it is not citable, so it is dropped.
    const passages: Passage[] = hits.flatMap((hit) => {
      const chunk = byId.get(hit.id);
      return chunk
        ? [
            {
              chunkId: chunk.id,
              documentId: chunk.documentId,
              score: hit.score,
              text: chunk.text,
              headingPath: chunk.headingPath,
              title: chunk.documentTitle,
              source: chunk.documentSource,
            },
          ]
        : [];
    });
    const { answer, answeredBy } = await timer.time('generate', () =>
      this.answer(input.query, passages),
    );
    const passageById = new Map(passages.map((p) => [p.chunkId, p]));
    const result: QueryResult = {
      answer: answer.text,
      citations: answer.citations.map((c) => ({
        ...c,
        source: passageById.get(c.chunkId)?.source ?? '',
        title: passageById.get(c.chunkId)?.title ?? null,
      })),
      answerer: answeredBy.kind,
      cached: false,
      indexVersion,
    };
    // A fallback answer, or one retrieved without lexical search because it failed, is not
    // cached: the next request should get the real answerer and the full retrieval again.
    if (answeredBy === answerer && mode !== 'vector-degraded') {
      await timer.time('cache', () => this.cacheSet(key, result));
    }
    return result;
  }

  private async answer(question: string, passages: Passage[]) {
    const { answerer, fallbackAnswerer, logger } = this.deps;
    try {
      const answer = await answerer.answer({ question, passages });
      return { answer, answeredBy: answerer };
    } catch (err) {
      if (answerer === fallbackAnswerer) throw err;
      logger.warn('answerer failed; answering extractively', { err });
      return {
        answer: await fallbackAnswerer.answer({ question, passages }),
        answeredBy: fallbackAnswerer,
      };
    }
  }

  private async cacheGet(key: string): Promise<string | undefined> {
    try {
      const raw = await this.deps.cache.get(key);
      this.deps.metrics.cacheRequests.inc({ cache: 'query', result: raw ? 'hit' : 'miss' });
      return raw || undefined;
    } catch (err) {
      this.deps.metrics.cacheRequests.inc({ cache: 'query', result: 'error' });
      this.deps.logger.warn('query cache read failed; answering uncached', { err });
      return undefined;
    }
  }

  private async cacheSet(key: string, result: QueryResult): Promise<void> {
    // Stored without `cached` (CachedQueryResult); the key's version says which shape an entry has.
    const { cached: _cached, ...stored } = result;
    try {
      await this.deps.cache.set(key, JSON.stringify(stored), this.deps.cacheTtlSeconds);
    } catch (err) {
      this.deps.logger.warn('query cache write failed', { err });
    }
  }
}
