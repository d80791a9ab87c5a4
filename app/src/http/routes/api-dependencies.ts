import type { ApiKeyUseCases } from '../../use-cases/api-keys';
import type { CollectionUseCases } from '../../use-cases/collections';
import type { DocumentUseCases } from '../../use-cases/documents';
import type { MemberUseCases } from '../../use-cases/members';
import type { PrincipalUseCases } from '../../use-cases/principals';
import type { QueryUseCase } from '../../use-cases/query';
import type { TokenEndpoints } from './auth-routes';

/** What the API routes need from the rest of the service: the use cases; built in service.ts. */
export interface ApiDependencies {
  readonly collections: CollectionUseCases;
  readonly documents: DocumentUseCases;
  readonly queries: QueryUseCase;
  readonly apiKeys: ApiKeyUseCases;
  readonly members: MemberUseCases;
  readonly principals: PrincipalUseCases;
  readonly maxDocumentBytes: number;
  /** JWT issue, refresh, revocation and the JWKS; absent when tokens are off (production without keys). */
  readonly tokens?: TokenEndpoints;
}
