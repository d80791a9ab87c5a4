import type { StoredChunk } from './chunk';
import type { Collection, NewCollection, ReadOptions } from './collection';
import type { DocumentRecord, DocumentStatus, IngestInput, IngestOutcome } from './document';
import type { Page, PageRequest } from './page';

// What the use cases need from storage, declared on the domain's side so that stores depend on the
// domain and never the other way round. Failures are the domain's errors (domain/errors.ts).

export interface CollectionStore {
  /** @throws ConflictError when the id is taken. */
  create(input: NewCollection): Promise<Collection>;
  /** With `memberOf`, only the collections that principal holds a role on. */
  list(page: PageRequest & { memberOf?: string }): Promise<Page<Collection>>;
  get(id: string, options?: ReadOptions): Promise<Collection | undefined>;
  /** Removes the incarnation's rows (documents, chunks); returns whether it existed. */
  delete(key: string): Promise<boolean>;
}

export interface DocumentStore {
  ingest(
    collectionKey: string,
    input: IngestInput,
  ): Promise<{ document: DocumentRecord; outcome: IngestOutcome }>;
  get(documentId: string, options?: ReadOptions): Promise<DocumentRecord | undefined>;
  list(
    collectionKey: string,
    options: PageRequest & { status?: DocumentStatus },
  ): Promise<Page<DocumentRecord>>;
  /** @throws NotFoundError */
  delete(collectionKey: string, documentId: string): Promise<DocumentRecord>;
  /** @throws NotFoundError, ConflictError when the document is not dead. */
  retry(documentId: string): Promise<DocumentRecord>;
}

export interface ChunkStore {
  getChunks(ids: readonly string[], options?: ReadOptions): Promise<StoredChunk[]>;
}

/** The vector side of deletes; vectors are scoped by the collection's key. */
export interface VectorIndex {
  deleteDocument(collectionKey: string, documentId: string): Promise<void>;
  deleteCollection(collectionKey: string): Promise<void>;
}
