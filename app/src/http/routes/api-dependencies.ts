import type { CollectionUseCases } from '../../use-cases/collections';
import type { DocumentUseCases } from '../../use-cases/documents';
import type { QueryUseCase } from '../../use-cases/query';
import type { TokenEndpoints } from './auth-routes';

/** What the API routes need from the rest of the service: the use cases; built in service.ts. */
export interface ApiDependencies {
  readonly collections: CollectionUseCases;
  readonly documents: DocumentUseCases;
  readonly queries: QueryUseCase;
  readonly maxDocumentBytes: number;
  /** JWT issue, refresh, revocation and the JWKS; absent when tokens are off (production without keys). */
  readonly tokens?: TokenEndpoints;
}
