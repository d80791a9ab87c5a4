export const mediaTypes = ['text/markdown', 'text/plain'] as const;
export type MediaType = (typeof mediaTypes)[number];

/** queued → indexing → indexed; failed while retries remain; dead once they are exhausted. */
export const documentStatuses = ['queued', 'indexing', 'indexed', 'failed', 'dead'] as const;
export type DocumentStatus = (typeof documentStatuses)[number];

export type IngestOutcome = 'created' | 'unchanged' | 'replaced';

export interface DocumentRecord {
  readonly id: string;
  /** The owning collection's key (its incarnation), not its id: see domain/collection.ts. */
  readonly collectionKey: string;
  readonly source: string;
  readonly title: string | null;
  readonly mediaType: MediaType;
  readonly contentHash: string;
  readonly sizeBytes: number;
  readonly metadata: Readonly<Record<string, string>>;
  readonly status: DocumentStatus;
  readonly attempts: number;
  readonly lastError: string | null;
  readonly chunkCount: number;
  readonly acceptedAt: Date;
  readonly indexedAt: Date | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export interface DocumentWithContent extends DocumentRecord {
  readonly content: string;
}

export interface IngestInput {
  /** The client's key for the document; defaults to the content hash (idempotent by content). */
  readonly source?: string;
  readonly title?: string | null;
  readonly mediaType: MediaType;
  readonly content: string;
  readonly metadata?: Readonly<Record<string, string>>;
}
