import type { Knex } from 'knex';
import type { ReadOptions } from '../../domain/collection';
import type {
  DocumentRecord,
  DocumentStatus,
  IngestInput,
  IngestOutcome,
} from '../../domain/document';
import { ConflictError, InvalidInputError, NotFoundError } from '../../domain/errors';
import type { Page } from '../../domain/page';
import type { DocumentStore } from '../../domain/ports';
import type { IngestQueue } from '../queue/ingest-queue';
import type { CollectionsRepository } from './collections-repository';
import type { Database } from './database';
import { contentHash, summaryColumns, toDocument, type DocumentRow } from './document-rows';
import { decodeCursor, encodeCursor } from './pagination';
import { isUuid, withPostgres } from './postgres-errors';

// The request side of documents: accept a version (row and job in one transaction), read, list,
// delete, and re-queue a dead one. Collections are always locked before their documents.

/** `seq` is a Postgres bigint; a larger cursor key would be a database error, not an empty page. */
const maxBigint = 9_223_372_036_854_775_807n;

export class DocumentsRepository implements DocumentStore {
  constructor(
    private readonly db: Database,
    private readonly collections: CollectionsRepository,
    private readonly queue: IngestQueue,
  ) {}

  /**
   * Accepts a document version. Same source with the same content, title, media type and metadata
   * is `unchanged` (no job); a changed version is `replaced` (the old chunks stay searchable until
   * the new ones are indexed); a new source is `created`. The row and its job commit together.
   * @throws NotFoundError when the collection does not exist.
   */
  ingest(
    collectionKey: string,
    input: IngestInput,
  ): Promise<{ document: DocumentRecord; outcome: IngestOutcome }> {
    return withPostgres(async () => {
      if (!isUuid(collectionKey)) throw new NotFoundError('collection', collectionKey);
      const hash = contentHash(input.content);
      const fields = {
        title: input.title ?? null,
        media_type: input.mediaType,
        content: input.content,
        content_hash: hash,
        size_bytes: Buffer.byteLength(input.content, 'utf8'),
        metadata: JSON.stringify(input.metadata ?? {}),
      };
      const source = input.source ?? hash;

      return this.db.transaction(async (trx) => {
        // KEY SHARE blocks a concurrent collection delete until this ingest commits.
        const collection = await trx('collections')
          .where({ id: collectionKey })
          .forKeyShare()
          .first('id');
        if (!collection) throw new NotFoundError('collection', collectionKey);

        const [inserted]: DocumentRow[] = await trx('documents')
          .insert({ collection_id: collectionKey, source, status: 'queued', ...fields })
          .onConflict(['collection_id', 'source'])
          .ignore()
          .returning(summaryColumns);
        if (inserted) {
          await this.queue.enqueue({ documentId: inserted.id, contentHash: hash }, trx);
          return { document: toDocument(inserted), outcome: 'created' as const };
        }

        // The source exists (possibly committed by a concurrent ingest a moment ago): lock and compare.
        const existing: DocumentRow | undefined = await trx('documents')
          .where({ collection_id: collectionKey, source })
          .forUpdate()
          .first(summaryColumns);
        if (!existing) throw new ConflictError(`document "${source}" was deleted concurrently`);
        if (
          existing.content_hash === hash &&
          existing.title === fields.title &&
          existing.media_type === fields.media_type &&
          sameMetadata(existing.metadata, input.metadata ?? {})
        ) {
          return { document: toDocument(existing), outcome: 'unchanged' as const };
        }
        const replaced = await this.requeue(trx, existing.id, hash, fields);
        return { document: replaced, outcome: 'replaced' as const };
      });
    });
  }

  /** The document (without content), or undefined when there is none with this id. */
  get(documentId: string, options: ReadOptions = {}): Promise<DocumentRecord | undefined> {
    return withPostgres(async () => {
      if (!isUuid(documentId)) return undefined;
      const lookup = (db: Knex): Promise<DocumentRow | undefined> =>
        db('documents').where({ id: documentId }).first(summaryColumns);
      const row = options.fromPrimary
        ? await lookup(this.db.primary)
        : await this.db.lookup(lookup);
      return row ? toDocument(row) : undefined;
    });
  }

  /** Newest last; keyset pagination, so pages stay stable while documents are added. */
  list(
    collectionKey: string,
    options: { status?: DocumentStatus; limit: number; cursor?: string },
  ): Promise<Page<DocumentRecord>> {
    return withPostgres(async () => {
      if (!isUuid(collectionKey)) throw new NotFoundError('collection', collectionKey);
      const after = options.cursor === undefined ? undefined : decodeCursor(options.cursor);
      if (after !== undefined && !(/^\d{1,19}$/.test(after) && BigInt(after) <= maxBigint)) {
        throw new InvalidInputError('invalid pagination cursor');
      }
      const rows: DocumentRow[] = await this.db.read((db) => {
        const q = db('documents')
          .where({ collection_id: collectionKey })
          .orderBy('seq')
          .limit(options.limit + 1)
          .select(summaryColumns);
        if (options.status) q.where({ status: options.status });
        if (after !== undefined) q.where('seq', '>', after);
        return q;
      });
      const page = rows.slice(0, options.limit);
      const nextCursor =
        rows.length > options.limit ? encodeCursor(String(page[page.length - 1].seq)) : null;
      return { items: page.map(toDocument), nextCursor };
    });
  }

  /**
   * Removes the document, its chunks and its pending jobs, and invalidates the collection's cached
   * answers. Returns the removed document.
   * @throws NotFoundError
   */
  delete(collectionKey: string, documentId: string): Promise<DocumentRecord> {
    return withPostgres(async () => {
      if (!isUuid(collectionKey) || !isUuid(documentId)) {
        throw new NotFoundError('document', documentId);
      }
      return this.db.transaction(async (trx) => {
        // Collection before document, the one lock order (see CollectionsRepository.lockForUpdate).
        if (!(await this.collections.lockForUpdate(collectionKey, trx))) {
          throw new NotFoundError('document', documentId);
        }
        const [row]: DocumentRow[] = await trx('documents')
          .where({ id: documentId, collection_id: collectionKey })
          .delete()
          .returning(summaryColumns);
        if (!row) throw new NotFoundError('document', documentId);
        await this.queue.discard(documentId, trx);
        await this.collections.bumpIndexVersion(collectionKey, trx);
        return toDocument(row);
      });
    });
  }

  /**
   * Re-queues a document whose job exhausted its retries (status `dead`). It locks only the
   * document (never its collection afterwards), so it cannot join a lock cycle.
   * @throws NotFoundError, ConflictError when the document is not dead.
   */
  retry(documentId: string): Promise<DocumentRecord> {
    return withPostgres(async () => {
      if (!isUuid(documentId)) throw new NotFoundError('document', documentId);
      return this.db.transaction(async (trx) => {
        const row: DocumentRow | undefined = await trx('documents')
          .where({ id: documentId })
          .forUpdate()
          .first(summaryColumns);
        if (!row) throw new NotFoundError('document', documentId);
        if (row.status !== 'dead') {
          throw new ConflictError(`document ${documentId} is ${row.status}, not dead`);
        }
        await this.queue.discard(documentId, trx);
        return this.requeue(trx, documentId, row.content_hash);
      });
    });
  }

  /**
   * Puts a document version back in the queued state, as freshly accepted, with a new job in the
   * same transaction: shared by re-ingest (new content) and retry (a dead document).
   */
  private async requeue(
    trx: Knex.Transaction,
    documentId: string,
    hash: string,
    fields: Record<string, unknown> = {},
  ): Promise<DocumentRecord> {
    const [row]: DocumentRow[] = await trx('documents')
      .where({ id: documentId })
      .update({
        ...fields,
        status: 'queued',
        attempts: 0,
        last_error: null,
        accepted_at: trx.fn.now(),
        updated_at: trx.fn.now(),
      })
      .returning(summaryColumns);
    await this.queue.enqueue({ documentId, contentHash: hash }, trx);
    return toDocument(row);
  }
}

function sameMetadata(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>) {
  const ak = Object.keys(a);
  return ak.length === Object.keys(b).length && ak.every((k) => b[k] === a[k]);
}
