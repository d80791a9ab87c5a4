import type { ApiDependencies } from '../http/routes/api-dependencies';
import type { Logger } from '../observability/logger';
import type { StageTimer } from '../observability/stage-timer';
import type { Embedder } from '../rag/embedding/embedder';
import type { QueryPipeline } from '../rag/retrieval/query-pipeline';
import type { VectorStore } from '../stores/vector/vector-store';
import type { CollectionLookupCache } from '../use-cases/collection-lookup-cache';
import { CollectionUseCases } from '../use-cases/collections';
import { DocumentUseCases } from '../use-cases/documents';
import { QueryUseCase } from '../use-cases/query';
import type { DataLayer } from './data-layer';

/** The use cases over the stores: what the API (and the demo corpus) calls. */
export function createUseCases(deps: {
  data: DataLayer;
  vectors: VectorStore;
  embedder: Embedder;
  retrieval: QueryPipeline;
  /** The query path's collection lookups (kept in memory, invalidated on every change). */
  collectionLookup: CollectionLookupCache;
  timer: StageTimer;
  logger: Logger;
  maxDocumentBytes: number;
}): ApiDependencies {
  const { data, vectors, embedder, retrieval, timer, logger } = deps;
  return {
    collections: new CollectionUseCases({
      collections: data.collections,
      vectors,
      embedding: { model: embedder.model, dimensions: embedder.dimensions },
      logger,
    }),
    documents: new DocumentUseCases({
      collections: data.collections,
      documents: data.documents,
      vectors,
      logger,
    }),
    queries: new QueryUseCase({
      collections: deps.collectionLookup,
      retrieval,
      timeLookup: (fn) => timer.time('db', fn),
    }),
    maxDocumentBytes: deps.maxDocumentBytes,
  };
}
