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
