import { createClient } from 'redis';
import type { Cache } from './cache';

// Redis-backed cache shared by every replica of the service, on node-redis. The contract is "never
// make a request slower or fail because of the cache": every call is bounded by a command timeout,
// commands issued while disconnected fail at once instead of queueing (`disableOfflineQueue`), and
// the client keeps reconnecting in the background with capped backoff, so the cache comes back by
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

/** Pause before reconnect attempt `retries` (0-based): doubling from 50 ms, capped, never giving up. */
export function reconnectDelayMs(retries: number, maxDelayMs: number): number {
  return Math.min(50 * 2 ** Math.min(retries, 10), maxDelayMs);
}

export class RedisCache implements Cache {
  readonly kind = 'redis' as const;
  private readonly client: ReturnType<typeof createClient>;
  private readonly commandTimeoutMs: number;

  constructor(url: string, options: RedisCacheOptions = {}) {
    const maxDelay = options.maxReconnectDelayMs ?? 2_000;
    this.client = createClient({
      url,
      socket: {
        connectTimeout: options.connectTimeoutMs ?? 1_000,
        // A number keeps node-redis reconnecting after any outage length; false or an Error would
        // close the client for good.
        reconnectStrategy: (retries) => reconnectDelayMs(retries, maxDelay),
      },
      disableOfflineQueue: true,
    });
    this.commandTimeoutMs = options.commandTimeoutMs ?? 250;
    const onError = options.onError ?? (() => undefined);
    // node-redis emits 'error' on every failed (re)connect and socket error; an EventEmitter
    // 'error' without a listener throws and would crash the process.
    this.client.on('error', (err: Error) => onError(err));
    // Resolves only once connected (it retries through the reconnect strategy); failures along the
    // way are reported through 'error' above, so the promise itself carries nothing to handle.
    this.client.connect().catch(() => undefined);
  }

  /** 'ready' once connected; anything else means commands will fail fast. */
  get status(): 'ready' | 'connecting' | 'closed' {
    if (this.client.isReady) return 'ready';
    return this.client.isOpen ? 'connecting' : 'closed';
  }

  /**
   * Resolves once the connection is ready, or rejects after `timeoutMs`. Optional: the cache works
   * without it (early calls fail fast and are treated as misses); start-up and tests use it to
   * begin with a warm connection.
   */
  async waitUntilReady(timeoutMs = 2_000): Promise<void> {
    if (this.client.isReady) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.client.off('ready', onReady);
        reject(new Error(`redis not ready after ${timeoutMs} ms (status ${this.status})`));
      }, timeoutMs);
      const onReady = () => {
        clearTimeout(timer);
        resolve();
      };
      this.client.once('ready', onReady);
    });
  }

  async get(key: string): Promise<string | undefined> {
    return (await this.bounded(this.client.get(key))) ?? undefined;
  }

  async set(key: string, value: string, ttlSeconds: number): Promise<void> {
    const expiration = { type: 'EX', value: ttlOf(ttlSeconds) } as const;
    await this.bounded(this.client.set(key, value, { expiration }));
  }

  async getMany(keys: readonly string[]): Promise<(string | undefined)[]> {
    if (keys.length === 0) return [];
    const values = await this.bounded(this.client.mGet([...keys]));
    return values.map((v) => v ?? undefined);
  }

  async setMany(
    entries: readonly (readonly [string, string])[],
    ttlSeconds: number,
  ): Promise<void> {
    if (entries.length === 0) return;
    const expiration = { type: 'EX', value: ttlOf(ttlSeconds) } as const;
    // Separate commands issued in one tick: node-redis writes them as one pipeline, and unlike an
    // explicit multi()/execAsPipeline() (which skips the offline check) each fails fast offline.
    await this.bounded(Promise.all(entries.map(([k, v]) => this.client.set(k, v, { expiration }))));
  }

  async ping(): Promise<void> {
    await this.bounded(this.client.ping());
  }

  /**
   * node-redis's own `timeout` command option stops counting once a command is written to the
   * socket (redis/node-redis#3008), so a server that accepts a command and never answers (frozen,
   * half-open connection) would hang the call: the deadline is kept here instead, for the whole call.
   */
  private bounded<T>(reply: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new RedisCommandTimeoutError(this.commandTimeoutMs)),
        this.commandTimeoutMs,
      );
      reply.then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (err: unknown) => {
          clearTimeout(timer);
          reject(err as Error);
        },
      );
    });
  }

  async close(): Promise<void> {
    if (!this.client.isOpen) return;
    try {
      // Graceful when connected (pending replies arrive first); otherwise stop reconnecting now.
      if (this.client.isReady) await this.client.close();
    } catch {
      // Closing a connection that just dropped is not worth an error at shutdown.
    } finally {
      if (this.client.isOpen) this.client.destroy();
    }
  }
}

export class RedisCommandTimeoutError extends Error {
  constructor(timeoutMs: number) {
    super(`redis command timed out after ${timeoutMs} ms`);
    this.name = 'RedisCommandTimeoutError';
  }
}

function ttlOf(ttlSeconds: number): number {
  if (!(ttlSeconds > 0)) throw new RangeError(`ttlSeconds must be positive, got ${ttlSeconds}`);
  return Math.max(1, Math.ceil(ttlSeconds));
}
