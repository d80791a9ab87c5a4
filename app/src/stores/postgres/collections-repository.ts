import type { Knex } from 'knex';
import type { Database } from './database';
import { ConflictError, NotFoundError, isUuid } from './errors';
import { decodeCursor, encodeCursor, type Page } from './pagination';

export interface Collection {
  readonly id: string;
  readonly name: string;
  readonly description: string | null;
  readonly embeddingModel: string;
  readonly dimensions: number;
  readonly indexVersion: number;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export interface NewCollection {
  readonly name: string;
  readonly description?: string | null;
  readonly embeddingModel: string;
  readonly dimensions: number;
}

interface CollectionRow {
  id: string;
  name: string;
  description: string | null;
  embedding_model: string;
  dimensions: number;
  index_version: string | number;
  created_at: Date;
  updated_at: Date;
}

/** Reads go to a replica unless the caller needs to see a write it just made. */
export interface ReadOptions {
  readonly fromPrimary?: boolean;
}

const uniqueViolation = '23505';

export class CollectionsRepository {
  constructor(private readonly db: Database) {}

  /** @throws ConflictError when the name is taken. */
  async create(input: NewCollection): Promise<Collection> {
    try {
      const [row] = await this.db
        .primary<CollectionRow>('collections')
        .insert({
          name: input.name,
          description: input.description ?? null,
          embedding_model: input.embeddingModel,
          dimensions: input.dimensions,
        })
        .returning('*');
      return toCollection(row as CollectionRow);
    } catch (err) {
      if ((err as { code?: string }).code === uniqueViolation) {
        throw new ConflictError(`collection "${input.name}" already exists`);
      }
      throw err;
    }
  }

  /** Collections by name, `limit` per page; pass the returned cursor for the next page. */
  async list(options: { limit: number; cursor?: string }): Promise<Page<Collection>> {
    const after = options.cursor === undefined ? undefined : decodeCursor(options.cursor);
    const rows = await this.db.read((db) => {
      const q = db<CollectionRow>('collections')
        .select('*')
        .orderBy('name')
        .limit(options.limit + 1);
      if (after !== undefined) q.where('name', '>', after);
      return q;
    });
    const items = rows.slice(0, options.limit).map(toCollection);
    const nextCursor =
      rows.length > options.limit ? encodeCursor(items[items.length - 1].name) : null;
    return { items, nextCursor };
  }

  /** The collection, or undefined when there is none with this id. */
  async getById(id: string, options: ReadOptions = {}): Promise<Collection | undefined> {
    if (!isUuid(id)) return undefined;
    const row = await this.lookup(options, (db) => db('collections').where({ id }).first());
    return row ? toCollection(row as CollectionRow) : undefined;
  }

  /** The collection, or undefined when there is none with this name. */
  async getByName(name: string, options: ReadOptions = {}): Promise<Collection | undefined> {
    const row = await this.lookup(options, (db) => db('collections').where({ name }).first());
    return row ? toCollection(row as CollectionRow) : undefined;
  }

  /**
   * Removes the collection with its documents and chunks; the caller removes its vectors.
   * Returns whether it existed.
   */
  async delete(id: string): Promise<boolean> {
    if (!isUuid(id)) return false;
    const deleted = await this.db.primary('collections').where({ id }).delete();
    return deleted > 0;
  }

  /**
   * Locks the collection's row for the rest of the transaction, as an update of it would (it does
   * not block ingests, which only take KEY SHARE). Every transaction that locks a collection and
   * its documents takes the collection first, as a collection delete does before its cascade
   * reaches the documents: one order, so they queue instead of deadlocking.
   * Returns false when the collection does not exist.
   */
  async lockForUpdate(id: string, trx: Knex.Transaction): Promise<boolean> {
    const row = await trx('collections').where({ id }).forNoKeyUpdate().first('id');
    return row !== undefined;
  }

  /** Marks the collection's searchable content as changed; returns the new version. */
  async bumpIndexVersion(id: string, trx?: Knex.Transaction): Promise<number> {
    const db = trx ?? this.db.primary;
    const [row] = await db<CollectionRow>('collections')
      .where({ id })
      .update({ index_version: db.raw('index_version + 1'), updated_at: db.fn.now() })
      .returning(['index_version']);
    if (!row) throw new NotFoundError('collection', id);
    return Number(row.index_version);
  }

  /** The version cached answers key on, read from a replica (bounded staleness by design). */
  async getIndexVersion(id: string): Promise<number> {
    const row = isUuid(id)
      ? await this.db.read((db) =>
          db<CollectionRow>('collections').where({ id }).first('index_version'),
        )
      : undefined;
    if (!row) throw new NotFoundError('collection', id);
    return Number(row.index_version);
  }

  private lookup<T>(options: ReadOptions, fn: (db: Knex) => Promise<T | undefined>) {
    return options.fromPrimary ? fn(this.db.primary) : this.db.lookup(fn);
  }
}

export function toCollection(row: CollectionRow): Collection {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    embeddingModel: row.embedding_model,
    dimensions: row.dimensions,
    indexVersion: Number(row.index_version),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
