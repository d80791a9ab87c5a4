import type { Config } from '../config';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import type { StageTimer } from '../observability/stage-timer';
import type { Answerer } from '../rag/answering/answerer';
import { ExtractiveAnswerer } from '../rag/answering/extractive-answerer';
import type { Embedder } from '../rag/embedding/embedder';
import { HybridRetriever } from '../rag/retrieval/hybrid-retriever';
import { QueryPipeline } from '../rag/retrieval/query-pipeline';
import type { LexicalSearch } from '../domain/lexical-search';
import type { Cache } from '../stores/cache/cache';
import type { VectorStore } from '../stores/vector/vector-store';
import { reportingAnswerer, type FailureSink } from '../health/outcome-reports';
import { createAnswerer } from './adapters';
import type { DataLayer } from './data-layer';

/** The query pipeline, answering with the chat endpoint when configured and extractively otherwise. */
export function createRetrieval(
  config: Config,
  deps: {
    data: DataLayer;
    cache: Cache;
    embedder: Embedder;
    vectors: VectorStore;
    /** Undefined when hybrid retrieval is off (RETRIEVAL_HYBRID=false). */
    lexical?: LexicalSearch;
    timer: StageTimer;
    metrics: Metrics;
    logger: Logger;
    health: FailureSink;
  },
): { retrieval: QueryPipeline; answerer: Answerer } {
  const extractive = new ExtractiveAnswerer();
  const configured = createAnswerer(config, extractive);
  // Only a chat endpoint is a dependency; the extractive answerer is in-process.
  const answerer =
    configured === extractive ? extractive : reportingAnswerer(configured, deps.health);
  const retrieval = new QueryPipeline({
    chunks: deps.data.chunks,
    embedder: deps.embedder,
    retriever: new HybridRetriever({
      vectors: deps.vectors,
      lexical: deps.lexical,
      rrfK: config.RETRIEVAL_RRF_K,
      metrics: deps.metrics,
      logger: deps.logger,
    }),
    answerer,
    fallbackAnswerer: extractive,
    cache: deps.cache,
    cacheTtlSeconds: config.CACHE_TTL_SECONDS,
    timer: deps.timer,
    metrics: deps.metrics,
    logger: deps.logger,
  });
  return { retrieval, answerer };
}
