import type { QueryFilter } from './query';

// The lexical half of hybrid retrieval, declared on the domain's side like the other ports:
// Postgres full-text search over chunk rows (embedded and Postgres deployments) or Qdrant sparse
// vectors (deployments with Qdrant). Retrieval fuses its ranking with the vector store's.

export interface LexicalSearchRequest {
  /** The collection incarnation's key (what chunk rows and vectors are scoped by). */
  readonly collectionKey: string;
  /** The question as the client asked it; the store parses it into terms. */
  readonly query: string;
  readonly limit: number;
  readonly filter?: QueryFilter;
}

export interface LexicalHit {
  readonly id: string;
  readonly documentId: string;
  /** Higher is better; comparable only within one result list. */
  readonly score: number;
}

export interface LexicalSearch {
  readonly kind: 'postgres' | 'qdrant';
  /** Best matches first; chunks sharing no term with the query are not returned. */
  search(request: LexicalSearchRequest): Promise<LexicalHit[]>;
}
