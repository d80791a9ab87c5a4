import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import type { IngestQueue } from '../queue/ingest-queue';
import type { CollectionsRepository, ReadOptions } from './collections-repository';
import type { Database } from './database';
import { ConflictError, InvalidInputError, NotFoundError, isUuid } from './errors';
import { decodeCursor, encodeCursor, type Page } from './pagination';

export type MediaType = 'text/markdown' | 'text/plain';
export type DocumentStatus = 'queued' | 'indexing' | 'indexed' | 'failed' | 'dead';
export type IngestOutcome = 'created' | 'unchanged' | 'replaced';

export interface DocumentRecord {
  readonly id: string;
  readonly collectionId: string;
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

/** A chunk as the chunker produces it. */
export interface ChunkInput {
  readonly id: string;
  readonly ordinal: number;
  readonly text: string;
  readonly headingPath: readonly string[];
  readonly start: number;
  readonly end: number;
}

export interface StoredChunk {
  readonly id: string;
  readonly documentId: string;
  readonly collectionId: string;
  readonly ordinal: number;
  readonly text: string;
  readonly headingPath: string[];
  readonly start: number;
  readonly end: number;
  /** Of the chunk's document, for citations. */
  readonly documentSource: string;
  readonly documentTitle: string | null;
}

interface DocumentRow {
  id: string;
  seq: string;
  collection_id: string;
  source: string;
  title: string | null;
  media_type: MediaType;
  content?: string;
  content_hash: string;
  size_bytes: number;
  metadata: Record<string, string>;
  status: DocumentStatus;
  attempts: number;
  last_error: string | null;
  chunk_count: number;
  accepted_at: Date;
  indexed_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

const summaryColumns: string[] = [
  'id',
  'seq',
  'collection_id',
  'source',
  'title',
  'media_type',
  'content_hash',
  'size_bytes',
  'metadata',
  'status',
  'attempts',
  'last_error',
  'chunk_count',
  'accepted_at',
  'indexed_at',
  'created_at',
  'updated_at',
];

const maxErrorLength = 2_000;
const chunkInsertBatch = 500;
/** `seq` is a Postgres bigint; a larger cursor key would be a database error, not an empty page. */
const maxBigint = 9_223_372_036_854_775_807n;

export function contentHash(content: string): string {
  return createHash('sha256').update(content, 'utf8').digest('hex');
}

export class DocumentsRepository {
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
  async ingest(
    collectionId: string,
    input: IngestInput,
  ): Promise<{ document: DocumentRecord; outcome: IngestOutcome }> {
    if (!isUuid(collectionId)) throw new NotFoundError('collection', collectionId);
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
        .where({ id: collectionId })
        .forKeyShare()
        .first('id');
      if (!collection) throw new NotFoundError('collection', collectionId);

      const [inserted]: DocumentRow[] = await trx('documents')
        .insert({ collection_id: collectionId, source, status: 'queued', ...fields })
        .onConflict(['collection_id', 'source'])
        .ignore()
        .returning(summaryColumns);
      if (inserted) {
        await this.queue.enqueue({ documentId: inserted.id, contentHash: hash }, trx);
        return { document: toDocument(inserted), outcome: 'created' as const };
      }

      // The source exists (possibly committed by a concurrent ingest a moment ago): lock and compare.
      const existing: DocumentRow | undefined = await trx('documents')
        .where({ collection_id: collectionId, source })
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
  }

  /** The document (without content), or undefined when there is none with this id. */
  async get(documentId: string, options: ReadOptions = {}): Promise<DocumentRecord | undefined> {
    if (!isUuid(documentId)) return undefined;
    const lookup = (db: Knex): Promise<DocumentRow | undefined> =>
      db('documents').where({ id: documentId }).first(summaryColumns);
    const row = options.fromPrimary ? await lookup(this.db.primary) : await this.db.lookup(lookup);
    return row ? toDocument(row) : undefined;
  }

  /** Newest last; keyset pagination, so pages stay stable while documents are added. */
  async list(
    collectionId: string,
    options: { status?: DocumentStatus; limit: number; cursor?: string },
  ): Promise<Page<DocumentRecord>> {
    if (!isUuid(collectionId)) throw new NotFoundError('collection', collectionId);
    const after = options.cursor === undefined ? undefined : decodeCursor(options.cursor);
    if (after !== undefined && !(/^\d{1,19}$/.test(after) && BigInt(after) <= maxBigint)) {
      throw new InvalidInputError('invalid pagination cursor');
    }
    const rows: DocumentRow[] = await this.db.read((db) => {
      const q = db('documents')
        .where({ collection_id: collectionId })
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
  }

  /**
   * Removes the document, its chunks and its pending jobs, and invalidates the collection's cached
   * answers. Returns the removed document so the caller can remove its vectors.
   * @throws NotFoundError
   */
  async delete(collectionId: string, documentId: string): Promise<DocumentRecord> {
    if (!isUuid(collectionId) || !isUuid(documentId)) {
      throw new NotFoundError('document', documentId);
    }
    return this.db.transaction(async (trx) => {
      // Collection before document, the one lock order (see lockCollectionForUpdate).
      await this.collections.bumpIndexVersion(collectionId, trx);
      const [row]: DocumentRow[] = await trx('documents')
        .where({ id: documentId, collection_id: collectionId })
        .delete()
        .returning(summaryColumns);
      if (!row) throw new NotFoundError('document', documentId);
      await this.queue.discard(documentId, trx);
      return toDocument(row);
    });
  }

  /**
   * Re-queues a document whose job exhausted its retries (status `dead`).
   * @throws NotFoundError, ConflictError when the document is not dead.
   */
  async retry(documentId: string): Promise<DocumentRecord> {
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
  }

  /**
   * Puts a document version back in the queued state, as freshly accepted, with a new job in the
   * same transaction: shared by re-ingest (new content) and retry (a dead document).
   */
  private async requeue(
    trx: Knex.Transaction,
    documentId: string,
    contentHash: string,
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
    await this.queue.enqueue({ documentId, contentHash }, trx);
    return toDocument(row);
  }

  /** Chunks by id (e.g. vector search hits), with their documents' source and title. */
  async getChunks(ids: readonly string[], options: ReadOptions = {}): Promise<StoredChunk[]> {
    const valid = ids.filter(isUuid);
    if (valid.length === 0) return [];
    const select = (db: Knex, chunkIds: readonly string[]) =>
      db('chunks as c')
        .join('documents as d', 'd.id', 'c.document_id')
        .whereIn('c.id', chunkIds)
        .select(
          'c.id',
          'c.document_id',
          'c.collection_id',
          'c.ordinal',
          'c.text',
          'c.heading_path',
          'c.start_offset',
          'c.end_offset',
          'd.source',
          'd.title',
        ) as Promise<ChunkRow[]>;
    const rows = await this.run(options, (db) => select(db, valid));
    // The vector index can be ahead of a replica: chunks the replica has not replayed yet are
    // fetched from the primary rather than dropped from the answer.
    if (rows.length < valid.length && !options.fromPrimary) {
      const found = new Set(rows.map((r) => r.id));
      rows.push(
        ...(await select(
          this.db.primary,
          valid.filter((id) => !found.has(id)),
        )),
      );
    }
    return rows.map((r) => ({
      id: r.id,
      documentId: r.document_id,
      collectionId: r.collection_id,
      ordinal: r.ordinal,
      text: r.text,
      headingPath: r.heading_path,
      start: r.start_offset,
      end: r.end_offset,
      documentSource: r.source,
      documentTitle: r.title,
    }));
  }

  // ---- worker side: always on the primary, since the worker acts on what it just read ----

  /** The document with its content, from the primary; undefined when deleted. */
  async getForIndexing(documentId: string): Promise<DocumentWithContent | undefined> {
    if (!isUuid(documentId)) return undefined;
    const row: DocumentRow | undefined = await this.db
      .primary('documents')
      .where({ id: documentId })
      .first([...summaryColumns, 'content']);
    return row ? { ...toDocument(row), content: row.content as string } : undefined;
  }

  /** Ids of the chunks currently stored for a document, in order. */
  async getChunkIds(documentId: string): Promise<string[]> {
    const rows = await this.db
      .primary('chunks')
      .where({ document_id: documentId })
      .orderBy('ordinal')
      .select('id');
    return rows.map((r: { id: string }) => r.id);
  }

  /** Starts an attempt on this version; false when the document moved on or is gone. */
  async markIndexing(documentId: string, hash: string): Promise<boolean> {
    const updated = await this.db
      .primary('documents')
      .where({ id: documentId, content_hash: hash })
      .update({
        status: 'indexing',
        attempts: this.db.primary.raw('attempts + 1'),
        updated_at: this.db.primary.fn.now(),
      });
    return updated > 0;
  }

  /**
   * Replaces the document's chunk rows, marks it indexed and bumps the collection's index version,
   * in one transaction and only if `hash` is still the document's content.
   * Returns when the version was accepted (for the ingest-lag histogram), or null when stale.
   */
  async completeIndexing(
    documentId: string,
    hash: string,
    chunks: readonly ChunkInput[],
  ): Promise<{ acceptedAt: Date } | null> {
    const owner: Pick<DocumentRow, 'collection_id'> | undefined = await this.db
      .primary('documents')
      .where({ id: documentId })
      .first('collection_id');
    if (!owner) return null;
    return this.db.transaction(async (trx) => {
      // Collection before document, the one lock order: a collection delete locks the collection
      // and then cascades to its documents, so locking the document first here would deadlock it.
      if (!(await this.collections.lockForUpdate(owner.collection_id, trx))) return null;
      const doc: Pick<DocumentRow, 'id' | 'collection_id' | 'accepted_at'> | undefined = await trx(
        'documents',
      )
        .where({ id: documentId, content_hash: hash })
        .forUpdate()
        .first('id', 'collection_id', 'accepted_at');
      if (!doc) return null;
      await trx('chunks').where({ document_id: documentId }).delete();
      const rows = chunks.map((c) => ({
        id: c.id,
        document_id: documentId,
        collection_id: doc.collection_id,
        ordinal: c.ordinal,
        text: c.text,
        heading_path: [...c.headingPath],
        start_offset: c.start,
        end_offset: c.end,
      }));
      for (let i = 0; i < rows.length; i += chunkInsertBatch) {
        await trx('chunks').insert(rows.slice(i, i + chunkInsertBatch));
      }
      await trx('documents').where({ id: documentId }).update({
        status: 'indexed',
        chunk_count: chunks.length,
        last_error: null,
        indexed_at: trx.fn.now(),
        updated_at: trx.fn.now(),
      });
      await this.collections.bumpIndexVersion(doc.collection_id, trx);
      return { acceptedAt: doc.accepted_at };
    });
  }

  /** Records a failed attempt on this version (a retry may follow). */
  async markFailed(documentId: string, hash: string, error: string): Promise<void> {
    await this.db
      .primary('documents')
      .where({ id: documentId, content_hash: hash })
      .whereNot({ status: 'indexed' })
      .update({
        status: 'failed',
        last_error: error.slice(0, maxErrorLength),
        updated_at: this.db.primary.fn.now(),
      });
  }

  /** Parks this version as dead (retries exhausted); `retry()` re-queues it. */
  async markDead(documentId: string, hash: string, error: string | null): Promise<void> {
    const db = this.db.primary;
    await db('documents')
      .where({ id: documentId, content_hash: hash })
      .whereNot({ status: 'indexed' })
      .update({
        status: 'dead',
        last_error: error === null ? db.raw('last_error') : error.slice(0, maxErrorLength),
        updated_at: db.fn.now(),
      });
  }

  private run<T>(options: ReadOptions, fn: (db: Knex) => Promise<T>): Promise<T> {
    return options.fromPrimary ? fn(this.db.primary) : this.db.read(fn);
  }
}

interface ChunkRow {
  id: string;
  document_id: string;
  collection_id: string;
  ordinal: number;
  text: string;
  heading_path: string[];
  start_offset: number;
  end_offset: number;
  source: string;
  title: string | null;
}

function sameMetadata(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>) {
  const ak = Object.keys(a);
  return ak.length === Object.keys(b).length && ak.every((k) => b[k] === a[k]);
}

function toDocument(row: DocumentRow): DocumentRecord {
  return {
    id: row.id,
    collectionId: row.collection_id,
    source: row.source,
    title: row.title,
    mediaType: row.media_type,
    contentHash: row.content_hash,
    sizeBytes: row.size_bytes,
    metadata: row.metadata,
    status: row.status,
    attempts: row.attempts,
    lastError: row.last_error,
    chunkCount: row.chunk_count,
    acceptedAt: row.accepted_at,
    indexedAt: row.indexed_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
