import Redis from 'ioredis';
import type { Cache } from './cache';

// Redis-backed cache shared by every replica of the service. The contract is "never make a request
// slower or fail because of the cache": every command is bounded by `commandTimeout`, commands
// issued while disconnected fail at once instead of queueing (`enableOfflineQueue: false`), and the
// client keeps reconnecting in the background with capped backoff, so the cache comes back by
// itself after an outage.

export interface RedisCacheOptions {
  /** Upper bound for any single command, in ms. Default 250. */
  readonly commandTimeoutMs?: number;
  /** Upper bound for establishing a connection, in ms. Default 1,000. */
  readonly connectTimeoutMs?: number;
  /** Longest pause between reconnect attempts, in ms. Default 2,000. */
  readonly maxReconnectDelayMs?: number;
  /** Connection errors go here (for logging / rag_dependency_up); they never throw. */
  readonly onError?: (err: Error) => void;
}

export class RedisCache implements Cache {
  readonly kind = 'redis' as const;
  private readonly client: Redis;

  constructor(url: string, options: RedisCacheOptions = {}) {
    const maxDelay = options.maxReconnectDelayMs ?? 2_000;
    this.client = new Redis(url, {
      commandTimeout: options.commandTimeoutMs ?? 250,
      connectTimeout: options.connectTimeoutMs ?? 1_000,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      // Never give up: returning a number keeps ioredis reconnecting after any outage length.
      retryStrategy: (attempt) => Math.min(50 * 2 ** Math.min(attempt, 10), maxDelay),
      enableReadyCheck: true,
    });
    const onError = options.onError ?? (() => undefined);
    // Without a listener, ioredis reports every reconnect failure as an unhandled 'error' event.
    this.client.on('error', (err: Error) => onError(err));
  }

  /** 'ready' once connected; anything else means commands will fail fast. */
  get status(): string {
    return this.client.status;
  }

  /**
   * Resolves once the connection is ready, or rejects after `timeoutMs`. Optional: the cache works
   * without it (early calls fail fast and are treated as misses); start-up and tests use it to
   * begin with a warm connection.
   */
  async waitUntilReady(timeoutMs = 2_000): Promise<void> {
    if (this.client.status === 'ready') return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.client.off('ready', onReady);
        reject(new Error(`redis not ready after ${timeoutMs} ms (status ${this.client.status})`));
      }, timeoutMs);
      const onReady = () => {
        clearTimeout(timer);
        resolve();
      };
      this.client.once('ready', onReady);
    });
  }

  async get(key: string): Promise<string | undefined> {
    return (await this.client.get(key)) ?? undefined;
  }

  async set(key: string, value: string, ttlSeconds: number): Promise<void> {
    await this.client.set(key, value, 'EX', ttlOf(ttlSeconds));
  }

  async getMany(keys: readonly string[]): Promise<(string | undefined)[]> {
    if (keys.length === 0) return [];
    const values = await this.client.mget(...keys);
    return values.map((v) => v ?? undefined);
  }

  async setMany(
    entries: readonly (readonly [string, string])[],
    ttlSeconds: number,
  ): Promise<void> {
    if (entries.length === 0) return;
    const ttl = ttlOf(ttlSeconds);
    const pipeline = this.client.pipeline();
    for (const [k, v] of entries) pipeline.set(k, v, 'EX', ttl);
    const results = (await pipeline.exec()) ?? [];
    const failed = results.find(([err]) => err);
    if (failed?.[0]) throw failed[0];
  }

  async ping(): Promise<void> {
    await this.client.ping();
  }

  async close(): Promise<void> {
    try {
      if (this.client.status === 'ready') await this.client.quit();
    } catch {
      // Quitting a connection that just dropped is not worth an error at shutdown.
    } finally {
      this.client.disconnect();
    }
  }
}

function ttlOf(ttlSeconds: number): number {
  if (!(ttlSeconds > 0)) throw new RangeError(`ttlSeconds must be positive, got ${ttlSeconds}`);
  return Math.max(1, Math.ceil(ttlSeconds));
}
