import type { ChunkInput } from '../../domain/chunk';
import type { DocumentWithContent } from '../../domain/document';
import type { CollectionsRepository } from './collections-repository';
import type { Database } from './database';
import { summaryColumns, toDocument, type DocumentRow } from './document-rows';
import { isUuid, withPostgres } from './postgres-errors';

// The worker's side of a document: the indexing state machine
//   queued → indexing → indexed | failed (retry follows) | dead (retries exhausted)
// Every transition is conditional on the content hash of the job's version, so a job for a
// version that was replaced or deleted meanwhile changes nothing. Always on the primary, since the
// worker acts on what it just read.

const maxErrorLength = 2_000;
const chunkInsertBatch = 500;

export class IndexingRepository {
  constructor(
    private readonly db: Database,
    private readonly collections: CollectionsRepository,
  ) {}

  /** The document with its content; undefined when deleted. */
  getForIndexing(documentId: string): Promise<DocumentWithContent | undefined> {
    return withPostgres(async () => {
      if (!isUuid(documentId)) return undefined;
      const row: DocumentRow | undefined = await this.db
        .primary('documents')
        .where({ id: documentId })
        .first([...summaryColumns, 'content']);
      return row ? { ...toDocument(row), content: row.content as string } : undefined;
    });
  }

  /** Ids of the chunks currently stored for a document, in order. */
  getChunkIds(documentId: string): Promise<string[]> {
    return withPostgres(async () => {
      const rows = await this.db
        .primary('chunks')
        .where({ document_id: documentId })
        .orderBy('ordinal')
        .select('id');
      return rows.map((r: { id: string }) => r.id);
    });
  }

  /** Starts an attempt on this version; false when the document moved on or is gone. */
  markIndexing(documentId: string, hash: string): Promise<boolean> {
    return withPostgres(async () => {
      const updated = await this.db
        .primary('documents')
        .where({ id: documentId, content_hash: hash })
        .update({
          status: 'indexing',
          attempts: this.db.primary.raw('attempts + 1'),
          updated_at: this.db.primary.fn.now(),
        });
      return updated > 0;
    });
  }

  /**
   * Replaces the document's chunk rows, marks it indexed and bumps the collection's index version,
   * in one transaction and only if `hash` is still the document's content.
   * Returns when the version was accepted (for the ingest-lag histogram), or null when stale.
   */
  completeIndexing(
    documentId: string,
    hash: string,
    chunks: readonly ChunkInput[],
  ): Promise<{ acceptedAt: Date } | null> {
    return withPostgres(async () => {
      const owner: Pick<DocumentRow, 'collection_id'> | undefined = await this.db
        .primary('documents')
        .where({ id: documentId })
        .first('collection_id');
      if (!owner) return null;
      return this.db.transaction(async (trx) => {
        // Collection before document, the one lock order: a collection delete locks the collection
        // and then cascades to its documents, so locking the document first would deadlock it.
        if (!(await this.collections.lockForUpdate(owner.collection_id, trx))) return null;
        const doc: Pick<DocumentRow, 'id' | 'collection_id' | 'accepted_at'> | undefined =
          await trx('documents')
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
    });
  }

  /** Records a failed attempt on this version (a retry may follow). */
  markFailed(documentId: string, hash: string, error: string): Promise<void> {
    return withPostgres(async () => {
      await this.db
        .primary('documents')
        .where({ id: documentId, content_hash: hash })
        .whereNot({ status: 'indexed' })
        .update({
          status: 'failed',
          last_error: error.slice(0, maxErrorLength),
          updated_at: this.db.primary.fn.now(),
        });
    });
  }

  /** Parks this version as dead (retries exhausted); a retry re-queues it. */
  markDead(documentId: string, hash: string, error: string | null): Promise<void> {
    return withPostgres(async () => {
      const db = this.db.primary;
      await db('documents')
        .where({ id: documentId, content_hash: hash })
        .whereNot({ status: 'indexed' })
        .update({
          status: 'dead',
          last_error: error === null ? db.raw('last_error') : error.slice(0, maxErrorLength),
          updated_at: db.fn.now(),
        });
    });
  }
}
