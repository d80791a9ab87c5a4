/** A chunk as the chunker produces it. */
export interface ChunkInput {
  readonly id: string;
  readonly ordinal: number;
  readonly text: string;
  readonly headingPath: readonly string[];
  readonly start: number;
  readonly end: number;
}

/** A stored chunk with what a citation needs of its document. */
export interface StoredChunk {
  readonly id: string;
  readonly documentId: string;
  readonly collectionKey: string;
  readonly ordinal: number;
  readonly text: string;
  readonly headingPath: string[];
  readonly start: number;
  readonly end: number;
  readonly documentSource: string;
  readonly documentTitle: string | null;
}
