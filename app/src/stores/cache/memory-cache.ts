import type { Cache } from './cache';

// The embedded default's cache: a Map used as an LRU (insertion order = recency; a hit re-inserts
// the entry), bounded by entry count and by approximate size so a burst of large answers cannot
// grow the heap without limit. Expired entries are dropped lazily when touched or evicted.

export interface MemoryCacheOptions {
  /** Most entries kept; the least recently used go first. Default 10,000. */
  readonly maxEntries?: number;
  /** Approximate bound on the UTF-16 size of keys + values, in bytes. Default 64 MiB. */
  readonly maxBytes?: number;
  /** Injected clock (ms) so TTL behaviour is testable without sleeping. */
  readonly now?: () => number;
}

interface Entry {
  readonly value: string;
  readonly expiresAt: number;
  readonly bytes: number;
}

export class MemoryCache implements Cache {
  readonly kind = 'memory' as const;
  private readonly entries = new Map<string, Entry>();
  private readonly maxEntries: number;
  private readonly maxBytes: number;
  private readonly now: () => number;
  private bytes = 0;

  constructor(options: MemoryCacheOptions = {}) {
    this.maxEntries = options.maxEntries ?? 10_000;
    this.maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
    this.now = options.now ?? Date.now;
    if (!(this.maxEntries >= 1) || !(this.maxBytes >= 1)) {
      throw new RangeError('MemoryCache bounds must be at least 1');
    }
  }

  /** Live entries (expired ones not yet swept may be counted until touched). */
  get size(): number {
    return this.entries.size;
  }

  async get(key: string): Promise<string | undefined> {
    return this.read(key);
  }

  async set(key: string, value: string, ttlSeconds: number): Promise<void> {
    this.write(key, value, ttlSeconds);
  }

  async getMany(keys: readonly string[]): Promise<(string | undefined)[]> {
    return keys.map((k) => this.read(k));
  }

  async setMany(
    entries: readonly (readonly [string, string])[],
    ttlSeconds: number,
  ): Promise<void> {
    for (const [k, v] of entries) this.write(k, v, ttlSeconds);
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    this.clear();
  }

  /** What `get` resolves to, without a promise: for callers on a hot path (redis-cache.ts). */
  peek(key: string): string | undefined {
    return this.read(key);
  }

  /** What `set` does, without a promise. */
  put(key: string, value: string, ttlSeconds: number): void {
    this.write(key, value, ttlSeconds);
  }

  delete(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.bytes -= entry.bytes;
  }

  clear(): void {
    this.entries.clear();
    this.bytes = 0;
  }

  private read(key: string): string | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    if (entry.expiresAt <= this.now()) {
      this.bytes -= entry.bytes;
      return undefined;
    }
    this.entries.set(key, entry);
    return entry.value;
  }

  private write(key: string, value: string, ttlSeconds: number): void {
    if (!(ttlSeconds > 0)) throw new RangeError(`ttlSeconds must be positive, got ${ttlSeconds}`);
    const previous = this.entries.get(key);
    if (previous) {
      this.entries.delete(key);
      this.bytes -= previous.bytes;
    }
    const bytes = 2 * (key.length + value.length);
    // An entry larger than the whole budget would evict everything and still not fit.
    if (bytes > this.maxBytes) return;
    this.entries.set(key, { value, expiresAt: this.now() + ttlSeconds * 1000, bytes });
    this.bytes += bytes;
    while (this.entries.size > this.maxEntries || this.bytes > this.maxBytes) {
      const oldest = this.entries.keys().next().value as string;
      this.bytes -= this.entries.get(oldest)!.bytes;
      this.entries.delete(oldest);
    }
  }
}
