import type { Collection, ReadOptions } from '../domain/collection';
import type {
  DocumentRecord,
  DocumentStatus,
  IngestInput,
  IngestOutcome,
} from '../domain/document';
import { NotFoundError } from '../domain/errors';
import type { Page, PageRequest } from '../domain/page';
import type { CollectionStore, DocumentStore, VectorIndex } from '../domain/ports';
import type { CollectionRole, Principal } from '../domain/principal';
import type { CollectionAccess } from './collection-access';
import type { UseCaseLogger } from './use-case-logger';

export interface DocumentUseCasesDeps {
  readonly collections: CollectionStore;
  readonly documents: DocumentStore;
  readonly vectors: VectorIndex;
  readonly logger: UseCaseLogger;
  readonly access: CollectionAccess;
}

/** A document with the collection it belongs to, as callers name it. */
export interface CollectionDocument {
  readonly collection: Collection;
  readonly document: DocumentRecord;
}

export class DocumentUseCases {
  constructor(private readonly deps: DocumentUseCasesDeps) {}

  /**
   * Accepts a document version into the collection `collectionId` (see DocumentsRepository.ingest
   * for created / replaced / unchanged). Asked of the primary: the collection may be seconds old.
   * @throws NotFoundError
   */
  async ingest(
    principal: Principal,
    collectionId: string,
    input: IngestInput,
  ): Promise<CollectionDocument & { outcome: IngestOutcome }> {
    const collection = await this.collection(principal, collectionId, 'writer', {
      fromPrimary: true,
    });
    const { document, outcome } = await this.deps.documents
      .ingest(collection.key, input)
      .catch((err: unknown) => {
        // Deleted in between: report it by the id the caller knows, never the internal key.
        if (err instanceof NotFoundError && err.entity === 'collection') {
          throw new NotFoundError('collection', collectionId);
        }
        throw err;
      });
    if (outcome !== 'unchanged') {
      await this.deps.access.record({
        type: 'document.created',
        actor: principal.id,
        target: document.id,
        collection: collection.id,
        detail: { outcome },
      });
    }
    return { collection, document, outcome };
  }

  /** @throws NotFoundError */
  async list(
    principal: Principal,
    collectionId: string,
    options: PageRequest & { status?: DocumentStatus },
  ): Promise<{ collection: Collection; page: Page<DocumentRecord> }> {
    const collection = await this.collection(principal, collectionId, 'reader');
    return { collection, page: await this.deps.documents.list(collection.key, options) };
  }

  /** @throws NotFoundError */
  async get(
    principal: Principal,
    collectionId: string,
    documentId: string,
  ): Promise<CollectionDocument> {
    const collection = await this.collection(principal, collectionId, 'reader');
    return { collection, document: await this.document(collection, documentId) };
  }

  /**
   * Vectors, then rows, then a sweep of vectors an indexing job wrote in between: the order of
   * CollectionUseCases.delete, for the same reasons (a failure leaves nothing citable and a retry
   * can finish).
   * @throws NotFoundError, DependencyUnavailableError
   */
  async delete(principal: Principal, collectionId: string, documentId: string): Promise<void> {
    const { documents, vectors, logger } = this.deps;
    const collection = await this.collection(principal, collectionId, 'writer', {
      fromPrimary: true,
    });
    await this.document(collection, documentId, { fromPrimary: true });
    await vectors.deleteDocument(collection.key, documentId);
    await documents.delete(collection.key, documentId);
    await vectors.deleteDocument(collection.key, documentId).catch((err: unknown) =>
      logger.warn('sweeping vectors of a deleted document failed; they cannot be cited', {
        err,
        documentId,
      }),
    );
    await this.deps.access.record({
      type: 'document.deleted',
      actor: principal.id,
      target: documentId,
      collection: collection.id,
    });
  }

  /**
   * Re-queues a dead-lettered document.
   * @throws NotFoundError, ConflictError when it is not dead.
   */
  async retry(
    principal: Principal,
    collectionId: string,
    documentId: string,
  ): Promise<CollectionDocument> {
    const collection = await this.collection(principal, collectionId, 'writer', {
      fromPrimary: true,
    });
    const document = await this.document(collection, documentId, { fromPrimary: true });
    return { collection, document: await this.deps.documents.retry(document.id) };
  }

  private collection(
    principal: Principal,
    id: string,
    needed: CollectionRole,
    options: ReadOptions = {},
  ): Promise<Collection> {
    return this.deps.access.collection(principal, id, needed, () =>
      this.deps.collections.get(id, options),
    );
  }

  /** A document of another collection is as absent as one that does not exist. */
  private async document(
    collection: Collection,
    documentId: string,
    options: ReadOptions = {},
  ): Promise<DocumentRecord> {
    const found = await this.deps.documents.get(documentId, options);
    if (!found || found.collectionKey !== collection.key) {
      throw new NotFoundError('document', documentId);
    }
    return found;
  }
}
