import type { Collection, ReadOptions } from '../domain/collection';
import type { CollectionStore } from '../domain/ports';

// The query path's collection lookup without a database round trip. A query needs the collection's
// key and index version (the version keys the answer cache); reading them from a replica on every
// request was the largest cost of a cached answer. Entries are kept in memory and dropped the moment
// a change to that collection commits anywhere (the change notices of
// stores/postgres/collection-changes.ts), so a re-ingest through any instance is seen by every
// other one as soon as its notice arrives.
//
// Staleness bound: while listening, an entry lives until its collection's next committed change is
// announced, and never longer than `ttlMs` (the backstop for a notice lost on a connection that died
// without telling). While not listening (connection lost, reconnecting), nothing is cached: every
// lookup reads the database as before. So an answer is never based on a version older than the
// last announced change, nor on a lookup older than `ttlMs` plus the replica lag the database
// layer already allows (DATABASE_REPLICA_MAX_LAG_SECONDS).

interface Entry {
  readonly collection: Collection;
  /** When the lookup that produced it started: the conservative age. */
  readonly fetchedAt: number;
}

export class CollectionLookupCache implements Pick<CollectionStore, 'get'> {
  private readonly entries = new Map<string, Entry>();
  /** Versions announced but possibly not yet on the replica: a lookup below it asks the primary. */
  private readonly floors = new Map<string, number>();
  private readonly inFlight = new Map<string, Promise<Collection | undefined>>();
  /** Bumped on every invalidation, so a lookup that raced one is not stored. */
  private epoch = 0;
  private listening = false;
  private readonly now: () => number;
  private readonly maxEntries: number;

  constructor(
    private readonly source: Pick<CollectionStore, 'get'>,
    private readonly options: {
      /** Longest life of an entry, in ms; 0 disables the cache. */
      readonly ttlMs: number;
      readonly maxEntries?: number;
      readonly now?: () => number;
    },
  ) {
    this.now = options.now ?? Date.now;
    this.maxEntries = options.maxEntries ?? 10_000;
  }

  async get(id: string, options: ReadOptions = {}): Promise<Collection | undefined> {
    if (options.fromPrimary || !this.listening || this.options.ttlMs <= 0) {
      return this.source.get(id, options);
    }
    const entry = this.entries.get(id);
    if (entry && this.now() - entry.fetchedAt < this.options.ttlMs) return entry.collection;
    let pending = this.inFlight.get(id);
    if (!pending) {
      pending = this.fetch(id).finally(() => this.inFlight.delete(id));
      this.inFlight.set(id, pending);
    }
    return pending;
  }

  /**
   * The entry when one is fresh, without a promise: a cached answer then costs no database stage
   * at all (no span, no stage timing), which is most of what the cached path saves.
   */
  peek(id: string): Collection | undefined {
    if (!this.listening || this.options.ttlMs <= 0) return undefined;
    const entry = this.entries.get(id);
    return entry && this.now() - entry.fetchedAt < this.options.ttlMs
      ? entry.collection
      : undefined;
  }

  /** A committed change of collection `id` (to `indexVersion`, or deleted when null). */
  invalidate(id: string, indexVersion: number | null): void {
    this.epoch++;
    this.entries.delete(id);
    // A lookup already under way started before this change: later callers must not share it.
    this.inFlight.delete(id);
    if (indexVersion === null) this.floors.delete(id);
    else this.floors.set(id, Math.max(indexVersion, this.floors.get(id) ?? 0));
  }

  /**
   * Whether change notices are being received. Losing them empties the cache and bypasses it;
   * regaining them starts from empty, since changes in between were not heard.
   */
  setListening(listening: boolean): void {
    this.epoch++;
    this.listening = listening;
    this.entries.clear();
    this.inFlight.clear();
    this.floors.clear();
  }

  private async fetch(id: string): Promise<Collection | undefined> {
    const epoch = this.epoch;
    const fetchedAt = this.now();
    let collection = await this.source.get(id);
    const floor = this.floors.get(id);
    if (collection && floor !== undefined && collection.indexVersion < floor) {
      // The replica has not replayed the announced change yet.
      collection = await this.source.get(id, { fromPrimary: true });
    }
    if (collection && floor !== undefined && collection.indexVersion >= floor) {
      this.floors.delete(id);
    }
    if (collection && epoch === this.epoch && this.listening) {
      if (this.entries.size >= this.maxEntries) this.entries.clear();
      this.entries.set(id, { collection, fetchedAt });
    }
    return collection;
  }
}
