import type { AccessChanged, ApiKeyMinter } from '../domain/access';
import type { AuditLog } from '../domain/audit';
import type { TokenDenylist } from '../domain/tokens';
import type { ApiDependencies } from '../http/routes/api-dependencies';
import type { Logger } from '../observability/logger';
import type { StageTimer } from '../observability/stage-timer';
import type { Embedder } from '../rag/embedding/embedder';
import type { QueryPipeline } from '../rag/retrieval/query-pipeline';
import type { VectorStore } from '../stores/vector/vector-store';
import { ApiKeyUseCases } from '../use-cases/api-keys';
import { CollectionAccess } from '../use-cases/collection-access';
import type { CollectionLookupCache } from '../use-cases/collection-lookup-cache';
import { CollectionUseCases } from '../use-cases/collections';
import { DocumentUseCases } from '../use-cases/documents';
import { MemberUseCases } from '../use-cases/members';
import { PrincipalUseCases } from '../use-cases/principals';
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
  audit: AuditLog;
  /** Makes API keys (security/api-key-format.ts). */
  minter: ApiKeyMinter;
  /** Drops this process's cached credentials of a principal whose keys or roles changed. */
  changed: AccessChanged;
  /** Where a disabled principal's live access tokens are denied (absent: tokens are off). */
  denylist?: TokenDenylist;
}): ApiDependencies {
  const { data, vectors, embedder, retrieval, timer, logger, audit, changed } = deps;
  const access = new CollectionAccess({ roles: data.principals, audit, logger, changed });
  return {
    collections: new CollectionUseCases({
      collections: data.collections,
      vectors,
      embedding: { model: embedder.model, dimensions: embedder.dimensions },
      logger,
      access,
      changed,
    }),
    documents: new DocumentUseCases({
      collections: data.collections,
      documents: data.documents,
      vectors,
      logger,
      access,
    }),
    queries: new QueryUseCase({
      collections: deps.collectionLookup,
      retrieval,
      access,
      timeLookup: (fn) => timer.time('db', fn),
    }),
    apiKeys: new ApiKeyUseCases({
      principals: data.principals,
      keys: data.apiKeys,
      minter: deps.minter,
      access,
      changed,
    }),
    members: new MemberUseCases({
      collections: data.collections,
      principals: data.principals,
      roles: data.principals,
      access,
      changed,
    }),
    principals: new PrincipalUseCases({
      principals: data.principals,
      access,
      denylist: deps.denylist,
      changed,
      logger,
    }),
    maxDocumentBytes: deps.maxDocumentBytes,
  };
}
