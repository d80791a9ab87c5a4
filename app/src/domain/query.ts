/** Exact-match conditions a cited chunk's document must meet; all must hold. */
export interface QueryFilter {
  readonly documentIds?: readonly string[];
  readonly metadata?: Readonly<Record<string, string>>;
}

export interface QueryInput {
  /** The collection's id (its name). */
  readonly collection: string;
  readonly query: string;
  readonly topK: number;
  readonly filter?: QueryFilter;
}

export interface Citation {
  readonly documentId: string;
  readonly chunkId: string;
  readonly score: number;
  readonly snippet: string;
  readonly source: string;
  readonly title: string | null;
}

export interface QueryResult {
  readonly answer: string;
  readonly citations: Citation[];
  readonly answerer: 'chat' | 'extractive';
  readonly cached: boolean;
  readonly indexVersion: number;
}

/**
 * An answer from the query cache, as the text it is stored as: the JSON of a QueryResult without
 * `cached`. A cache hit is sent on as it is, so the hottest path neither parses nor re-serializes it.
 */
export interface CachedQueryResult {
  readonly cached: true;
  readonly json: string;
}

export type QueryAnswer = QueryResult | CachedQueryResult;
