import { setImmediate as nextTurn } from 'node:timers/promises';
import type { LexicalSearch } from '../../domain/lexical-search';
import type { QueryFilter } from '../../domain/query';
import type { Logger } from '../../observability/logger';
import type { Metrics } from '../../observability/metrics';
import type { VectorStore } from '../../stores/vector/vector-store';
import { reciprocalRankFusion } from './reciprocal-rank-fusion';

// Vector search and lexical search, fused by reciprocal rank. The two fail differently: an
// embedding places "the primary is gone" near "the writer is unreachable" even with no word in
// common, while full text finds the runbook that names the exact error, metric or command the
// embedding blurs. Each list is fetched deeper than topK so a chunk ranked modestly by both can
// still rise above one ranked high by a single retriever.
//
// Lexical search is an improvement, not a dependency: when it fails the query is answered from
// vector search alone (as with hybrid retrieval off), counted in rag_retrieval_degraded_total and
// logged. A vector store failure still fails the query, as before.

export interface RetrievalRequest {
  readonly collectionKey: string;
  readonly query: string;
  readonly vector: Float32Array | readonly number[];
  readonly topK: number;
  readonly filter?: QueryFilter;
}

export interface RetrievedHit {
  readonly id: string;
  readonly documentId: string;
  /** Cosine similarity (vector only), or the fused score scaled to 0..1 (hybrid). */
  readonly score: number;
}

export type RetrievalMode = 'hybrid' | 'vector' | 'vector-degraded';

/** Candidates per list: enough depth for agreement lower down to count, bounded for latency. */
export function candidateDepth(topK: number): number {
  return Math.min(100, Math.max(20, topK * 4));
}

export class HybridRetriever {
  constructor(
    private readonly deps: {
      vectors: VectorStore;
      /** Undefined turns hybrid retrieval off (vector search only). */
      lexical?: LexicalSearch;
      rrfK: number;
      metrics: Metrics;
      logger: Logger;
    },
  ) {}

  async retrieve(
    request: RetrievalRequest,
  ): Promise<{ hits: RetrievedHit[]; mode: RetrievalMode }> {
    const { vectors, lexical, rrfK, metrics, logger } = this.deps;
    const { collectionKey, topK, filter } = request;
    if (!lexical) {
      const hits = await vectors.search({
        collectionId: collectionKey,
        vector: request.vector,
        topK,
        filter,
      });
      return { hits, mode: 'vector' };
    }
    const depth = candidateDepth(topK);
    // Started first and settled into a value, so a vector failure leaves no rejection unhandled.
    const lexicalHits = lexical
      .search({ collectionKey, query: request.query, limit: depth, filter })
      .catch((err: unknown) => {
        metrics.retrievalDegraded.inc({ retriever: 'lexical' });
        logger.warn('lexical search failed; answering from vector search alone', {
          err,
          lexical: lexical.kind,
        });
        return undefined;
      });
    // The in-process index searches synchronously (milliseconds of CPU at 100,000 chunks), and the
    // lexical query is sent only once its pooled connection is handed over, a few promise turns
    // from now: without this turn the query would wait for the whole scan before it even left.
    await nextTurn();
    const vectorHits = await vectors.search({
      collectionId: collectionKey,
      vector: request.vector,
      topK: depth,
      filter,
    });
    const lexicalResult = await lexicalHits;
    if (!lexicalResult) return { hits: vectorHits.slice(0, topK), mode: 'vector-degraded' };
    return {
      hits: reciprocalRankFusion([vectorHits, lexicalResult], rrfK).slice(0, topK),
      mode: 'hybrid',
    };
  }
}
