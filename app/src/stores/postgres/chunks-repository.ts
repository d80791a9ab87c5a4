import type { Knex } from 'knex';
import type { StoredChunk } from '../../domain/chunk';
import type { ReadOptions } from '../../domain/collection';
import type { Database } from './database';
import { isUuid, withPostgres } from './postgres-errors';
import { PreparedStatement } from './prepared-statement';

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

/** $1 the chunk ids. A prepared statement: every uncached question runs it. */
const chunksById = new PreparedStatement<ChunkRow>(`
  SELECT c.id, c.document_id, c.collection_id, c.ordinal, c.text, c.heading_path,
         c.start_offset, c.end_offset, d.source, d.title
    FROM chunks AS c
    JOIN documents AS d ON d.id = c.document_id
   WHERE c.id = ANY($1::uuid[])`);

/** Chunk rows as the query side reads them: what vector hits resolve to. */
export class ChunksRepository {
  constructor(private readonly db: Database) {}

  /** Chunks by id (e.g. vector search hits), with their documents' source and title. */
  getChunks(ids: readonly string[], options: ReadOptions = {}): Promise<StoredChunk[]> {
    return withPostgres(async () => {
      const valid = ids.filter(isUuid);
      if (valid.length === 0) return [];
      const select = (db: Knex, chunkIds: readonly string[]) => chunksById.rows(db, [chunkIds]);
      const rows = options.fromPrimary
        ? await select(this.db.primary, valid)
        : await this.db.read((db) => select(db, valid));
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
        collectionKey: r.collection_id,
        ordinal: r.ordinal,
        text: r.text,
        headingPath: r.heading_path,
        start: r.start_offset,
        end: r.end_offset,
        documentSource: r.source,
        documentTitle: r.title,
      }));
    });
  }
}
