// The seam for the embeddings cache and the query-result cache. Two implementations: Redis and an
// in-memory LRU (embedded default). A cache failure must never fail a request: callers treat any
// rejection as a miss, and the Redis implementation bounds every call with a short timeout.

export interface Cache {
  readonly kind: 'redis' | 'memory';
  get(key: string): Promise<string | undefined>;
  /**
   * The value when it is at hand without a round trip (the memory cache; Redis's local copies,
   * kept correct by invalidation), else undefined: `get` then asks. Never throws.
   */
  peek(key: string): string | undefined;
  set(key: string, value: string, ttlSeconds: number): Promise<void>;
  /** Many keys in one round trip; missing keys are undefined at their index. */
  getMany(keys: readonly string[]): Promise<(string | undefined)[]>;
  setMany(entries: readonly (readonly [string, string])[], ttlSeconds: number): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
