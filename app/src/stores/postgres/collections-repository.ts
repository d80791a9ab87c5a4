import type { Knex } from 'knex';
import type { Collection, NewCollection, ReadOptions } from '../../domain/collection';
import { ConflictError, NotFoundError } from '../../domain/errors';
import type { Page, PageRequest } from '../../domain/page';
import type { CollectionStore } from '../../domain/ports';
import { collectionChangesChannel, encodeCollectionChange } from './collection-changes';
import type { Database } from './database';
import { decodeCursor, encodeCursor } from './pagination';
import { isUuid, uniqueViolation, withPostgres } from './postgres-errors';

// Table `collections`: column `name` holds the collection's id (what clients chose), column `id`
// its key (a uuid per incarnation, referenced by documents and chunks).

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

export class CollectionsRepository implements CollectionStore {
  constructor(private readonly db: Database) {}

  /** @throws ConflictError when the id is taken. */
  create(input: NewCollection): Promise<Collection> {
    return withPostgres(async () => {
      try {
        // The collection and its creator's admin role commit together: no window in which the
        // collection exists and nobody may manage it.
        return await this.db.transaction(async (trx) => {
          const [row] = await trx<CollectionRow>('collections')
            .insert({
              name: input.id,
              description: input.description ?? null,
              embedding_model: input.embeddingModel,
              dimensions: input.dimensions,
            })
            .returning('*');
          if (input.adminPrincipalId) {
            await trx('collection_roles').insert({
              principal_id: input.adminPrincipalId,
              collection_id: (row as CollectionRow).id,
              role: 'admin',
            });
          }
          return toCollection(row as CollectionRow);
        });
      } catch (err) {
        if ((err as { code?: string }).code === uniqueViolation) {
          throw new ConflictError(`collection "${input.id}" already exists`);
        }
        throw err;
      }
    });
  }

  /**
   * Collections by id, `limit` per page; pass the returned cursor for the next page. With
   * `memberOf`, only those the principal holds a role on.
   */
  list(options: PageRequest & { memberOf?: string }): Promise<Page<Collection>> {
    return withPostgres(async () => {
      const after = options.cursor === undefined ? undefined : decodeCursor(options.cursor);
      const memberOf = options.memberOf;
      if (memberOf !== undefined && !isUuid(memberOf)) return { items: [], nextCursor: null };
      const rows = await this.db.read((db) => {
        const q = db<CollectionRow>('collections')
          .select('collections.*')
          .orderBy('name')
          .limit(options.limit + 1);
        if (after !== undefined) q.where('name', '>', after);
        if (memberOf !== undefined) {
          q.whereExists(
            db('collection_roles')
              .select(db.raw('1'))
              .whereRaw('collection_roles.collection_id = collections.id')
              .andWhere('collection_roles.principal_id', memberOf),
          );
        }
        return q;
      });
      const items = rows.slice(0, options.limit).map(toCollection);
      const nextCursor =
        rows.length > options.limit ? encodeCursor(items[items.length - 1].id) : null;
      return { items, nextCursor };
    });
  }

  /** The collection, or undefined when there is none with this id. */
  get(id: string, options: ReadOptions = {}): Promise<Collection | undefined> {
    return withPostgres(async () => {
      const row = await this.lookup(options, (db) => db('collections').where({ name: id }).first());
      return row ? toCollection(row as CollectionRow) : undefined;
    });
  }

  /** The incarnation with this key, or undefined when it is gone. */
  getByKey(key: string, options: ReadOptions = {}): Promise<Collection | undefined> {
    return withPostgres(async () => {
      if (!isUuid(key)) return undefined;
      const row = await this.lookup(options, (db) => db('collections').where({ id: key }).first());
      return row ? toCollection(row as CollectionRow) : undefined;
    });
  }

  /**
   * Removes the incarnation with its documents and chunks (the caller removes its vectors).
   * Returns whether it existed.
   */
  delete(key: string): Promise<boolean> {
    return withPostgres(async () => {
      if (!isUuid(key)) return false;
      // The row lock comes first and the cascade then locks the documents: the lock order.
      return this.db.transaction(async (trx) => {
        const deleted = await trx<CollectionRow>('collections')
          .where({ id: key })
          .delete()
          .returning(['name']);
        for (const row of deleted) await notifyChange(trx, row.name, null);
        return deleted.length > 0;
      });
    });
  }

  /**
   * Locks the collection's row for the rest of the transaction, as an update of it would (it does
   * not block ingests, which only take KEY SHARE). Every transaction that locks a collection and
   * its documents takes the collection first, as a collection delete does before its cascade
   * reaches the documents: one order, so they queue instead of deadlocking.
   * Returns false when the collection does not exist.
   */
  async lockForUpdate(key: string, trx: Knex.Transaction): Promise<boolean> {
    const row = await trx('collections').where({ id: key }).forNoKeyUpdate().first('id');
    return row !== undefined;
  }

  /** Marks the collection's searchable content as changed; returns the new version. */
  async bumpIndexVersion(key: string, trx?: Knex.Transaction): Promise<number> {
    const db = trx ?? this.db.primary;
    const [row] = await db<CollectionRow>('collections')
      .where({ id: key })
      .update({ index_version: db.raw('index_version + 1'), updated_at: db.fn.now() })
      .returning(['index_version', 'name']);
    if (!row) throw new NotFoundError('collection', key);
    const version = Number(row.index_version);
    // Delivered when (and only if) the caller's transaction commits.
    await notifyChange(db, row.name, version);
    return version;
  }

  private lookup<T>(options: ReadOptions, fn: (db: Knex) => Promise<T | undefined>) {
    return options.fromPrimary ? fn(this.db.primary) : this.db.lookup(fn);
  }
}

/** Tells every instance's collection lookup cache (use-cases/collection-lookup-cache.ts). */
async function notifyChange(db: Knex, id: string, indexVersion: number | null): Promise<void> {
  await db.raw('SELECT pg_notify(?, ?)', [
    collectionChangesChannel,
    encodeCollectionChange({ id, indexVersion }),
  ]);
}

function toCollection(row: CollectionRow): Collection {
  return {
    id: row.name,
    key: row.id,
    description: row.description,
    embeddingModel: row.embedding_model,
    dimensions: row.dimensions,
    indexVersion: Number(row.index_version),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
