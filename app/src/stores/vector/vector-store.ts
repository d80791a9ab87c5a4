// The seam between retrieval and where vectors live. Two implementations: Qdrant (production) and
// an in-process index (embedded default, tests). Both pass app/test/stores/vector-store.contract.ts.

export interface VectorPoint {
  /** Deterministic chunk id (see rag/chunking); stable across re-ingests of identical text. */
  readonly id: string;
  readonly vector: Float32Array | readonly number[];
  readonly payload: VectorPayload;
  /**
   * The chunk's text, for a store that also indexes it for lexical search (Qdrant's sparse
   * vectors); a store without lexical search ignores it.
   */
  readonly text?: string;
}

/** What the store keeps beside a vector; everything else about a chunk lives in Postgres. */
export interface VectorPayload {
  readonly collectionId: string;
  readonly documentId: string;
  /** Free-form string metadata copied from the document, usable in query filters. */
  readonly metadata?: Readonly<Record<string, string>>;
}

export interface VectorSearchRequest {
  readonly collectionId: string;
  readonly vector: Float32Array | readonly number[];
  readonly topK: number;
  /** Exact-match filter on document ids and/or metadata keys; all conditions must hold. */
  readonly filter?: {
    readonly documentIds?: readonly string[];
    readonly metadata?: Readonly<Record<string, string>>;
  };
}

export interface VectorHit {
  readonly id: string;
  readonly documentId: string;
  /** Cosine similarity, higher is closer. */
  readonly score: number;
}

export interface VectorStore {
  readonly kind: 'qdrant' | 'in-process';
  /** Creates whatever backing structures the store needs for this dimension; idempotent. */
  ensureReady(): Promise<void>;
  upsert(points: readonly VectorPoint[]): Promise<void>;
  search(request: VectorSearchRequest): Promise<VectorHit[]>;
  /** Removes every vector of a document except those whose ids are kept (re-ingest replaces). */
  deleteDocument(
    collectionId: string,
    documentId: string,
    keepIds?: readonly string[],
  ): Promise<void>;
  deleteCollection(collectionId: string): Promise<void>;
  /** Cheap liveness probe for /readyz and rag_dependency_up. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
