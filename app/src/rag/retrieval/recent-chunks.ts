import type { StoredChunk } from '../../domain/chunk';
import type { ChunkStore } from '../../domain/ports';
import type { Metrics } from '../../observability/metrics';

// The chunk rows uncached questions resolved lately, kept in process per collection index
// version. The same runbook passages answer question after question, and fetching their rows was
// one of an uncached query's three database round trips.
//
// Keyed by the index version the question was answered under, like the query cache: any ingest,
// replacement or delete in the collection bumps the version, after which these entries are never
// read again (they age out). A chunk id already fixes its text (chunk-id.ts), and within one
// version nothing else about it changes either, so an entry is exactly what the database held for
// that version; across instances it is bounded as the query cache is, by the version a replica
// reports.

/** Chunk rows kept (about 1 KB each). */
export const RECENT_CHUNKS = 5_000;

export class RecentChunks {
  private readonly entries = new Map<string, StoredChunk>();

  constructor(
    private readonly store: ChunkStore,
    private readonly metrics: Metrics,
    private readonly maxEntries = RECENT_CHUNKS,
  ) {}

  /** The chunks of `ids` that exist, as getChunks returns them (in no particular order). */
  async getChunks(
    collection: { readonly key: string; readonly indexVersion: number },
    ids: readonly string[],
  ): Promise<StoredChunk[]> {
    const prefix = `${collection.key}\u0000${collection.indexVersion}\u0000`;
    const found: StoredChunk[] = [];
    const missing: string[] = [];
    for (const id of ids) {
      const chunk = this.entries.get(prefix + id);
      if (chunk) {
        // Most recently used last, so the first entry is the one to evict.
        this.entries.delete(prefix + id);
        this.entries.set(prefix + id, chunk);
        found.push(chunk);
      } else missing.push(id);
    }
    const counter = this.metrics.cacheRequests;
    if (found.length > 0) counter.inc({ cache: 'chunks', result: 'hit' }, found.length);
    if (missing.length === 0) return found;
    counter.inc({ cache: 'chunks', result: 'miss' }, missing.length);
    const fetched = await this.store.getChunks(missing);
    for (const chunk of fetched) {
      this.entries.set(prefix + chunk.id, chunk);
      found.push(chunk);
    }
    while (this.entries.size > this.maxEntries) {
      this.entries.delete(this.entries.keys().next().value!);
    }
    return found;
  }
}
