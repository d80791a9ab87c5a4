import { createClient } from 'redis';
import type { Cache } from './cache';
import { MemoryCache } from './memory-cache';

// Redis-backed cache shared by every replica of the service, on node-redis. The contract is "never
// make a request slower or fail because of the cache": every call is bounded by a command timeout,
// commands issued while disconnected fail at once instead of queueing (`disableOfflineQueue`), and
// the client keeps reconnecting in the background with capped backoff, so the cache comes back by
// itself after an outage.
//
// With `clientSideCacheEntries`, GETs are also kept in process under Redis's server-assisted
// invalidation (RESP3 `CLIENT TRACKING`): a repeated GET is answered without a round trip, and the
// server tells this client as soon as a key it read is written, deleted, expired or evicted by
// anyone. Each local copy also expires when the key does in Redis (its PTTL, read in the same round
// trip as the value), because Redis only reports an expiry once it has deleted the key. The local
// copies are dropped whenever the connection errors, closes or is re-established (invalidations
// sent meanwhile are lost), so an outage still reads as one and nothing read before it survives it.
// node-redis's own client-side cache is not used: it keeps a copy until invalidated, past the key's
// TTL, which would break the Cache contract.

export interface RedisCacheOptions {
  /** Upper bound for any single command, in ms. Default 250. */
  readonly commandTimeoutMs?: number;
  /** Upper bound for establishing a connection, in ms. Default 1,000. */
  readonly connectTimeoutMs?: number;
  /** Longest pause between reconnect attempts, in ms. Default 2,000. */
  readonly maxReconnectDelayMs?: number;
  /** Connection errors go here (for logging / rag_dependency_up); they never throw. */
  readonly onError?: (err: Error) => void;
  /**
   * Most GET replies kept in process under server-assisted invalidation (least recently used go
   * first); 0 or unset turns it off, for a server that refuses `CLIENT TRACKING`.
   */
  readonly clientSideCacheEntries?: number;
  /** Longest life of a local copy of a key without a TTL in Redis, in ms. Default 60,000. */
  readonly clientSideCacheMaxTtlMs?: number;
}

/** Pause before reconnect attempt `retries` (0-based): doubling from 50 ms, capped, never giving up. */
export function reconnectDelayMs(retries: number, maxDelayMs: number): number {
  return Math.min(50 * 2 ** Math.min(retries, 10), maxDelayMs);
}

// One type for both protocol versions: the cache only uses GET, SET, MGET and PING, whose replies
// are the same strings and nulls under RESP2 and RESP3.
type RedisClient = ReturnType<typeof createClient>;

export class RedisCache implements Cache {
  readonly kind = 'redis' as const;
  private client: RedisClient;
  private readonly commandTimeoutMs: number;
  /** Local copies of GET replies (clientSideCacheEntries), and the reads still in flight. */
  private local?: MemoryCache;
  private readonly localMaxTtlMs: number = 0;
  private readonly inFlight = new Map<string, object>();
  private readonly readyWaiters = new Set<() => void>();

  constructor(
    private readonly url: string,
    private readonly options: RedisCacheOptions = {},
  ) {
    this.commandTimeoutMs = options.commandTimeoutMs ?? 250;
    const localEntries = options.clientSideCacheEntries ?? 0;
    if (localEntries > 0) {
      this.local = new MemoryCache({ maxEntries: localEntries });
      this.localMaxTtlMs = options.clientSideCacheMaxTtlMs ?? 60_000;
    }
    this.client = this.open(localEntries > 0);
  }

  private open(tracking: boolean): RedisClient {
    const maxDelay = this.options.maxReconnectDelayMs ?? 2_000;
    const client = createClient({
      url: this.url,
      socket: {
        connectTimeout: this.options.connectTimeoutMs ?? 1_000,
        // A number keeps node-redis reconnecting after any outage length; false or an Error would
        // close the client for good.
        reconnectStrategy: (retries) => reconnectDelayMs(retries, maxDelay),
      },
      disableOfflineQueue: true,
      // CLIENT TRACKING ON in every connection's handshake; invalidations arrive as RESP3 pushes
      // on the same connection and are emitted as 'invalidate' while the reply is decoded.
      ...(tracking ? { RESP: 3 as const, emitInvalidate: true } : {}),
    }) as RedisClient;
    const onError = this.options.onError ?? (() => undefined);
    // node-redis emits 'error' on every failed (re)connect and socket error; an EventEmitter
    // 'error' without a listener throws and would crash the process.
    client.on('error', (err: Error) => {
      if (tracking && trackingRefused(err)) return this.withoutTracking(client, err);
      onError(err);
    });
    client.on('ready', () => {
      for (const resolve of this.readyWaiters) resolve();
    });
    if (tracking) {
      client.on('invalidate', (key: unknown) => this.invalidate(key));
      for (const event of ['error', 'end', 'ready'] as const)
        client.on(event, () => this.dropLocal());
    }
    // Resolves only once connected (it retries through the reconnect strategy); failures along the
    // way are reported through 'error' above, so the promise itself carries nothing to handle.
    client.connect().catch(() => undefined);
    return client;
  }

  /**
   * A server that refuses CLIENT TRACKING (an ACL without `client|tracking`, a managed Redis that
   * restricts it) fails every handshake: the cache would never connect. It goes on without local
   * copies instead, on a plain connection, and says so once.
   */
  private withoutTracking(client: RedisClient, err: Error): void {
    if (client !== this.client) return;
    this.local = undefined;
    this.dropLocal();
    client.destroy();
    this.options.onError?.(
      new Error(`redis refuses client-side caching; caching without local copies (${err.message})`),
    );
    this.client = this.open(false);
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
    // Waits on this cache, not on one client: a refused CLIENT TRACKING swaps the client meanwhile.
    await new Promise<void>((resolve, reject) => {
      const onReady = () => {
        clearTimeout(timer);
        this.readyWaiters.delete(onReady);
        resolve();
      };
      const timer = setTimeout(() => {
        this.readyWaiters.delete(onReady);
        reject(new Error(`redis not ready after ${timeoutMs} ms (status ${this.status})`));
      }, timeoutMs);
      this.readyWaiters.add(onReady);
    });
  }

  peek(key: string): string | undefined {
    // Only while connected: invalidations arrive on the connection, so a copy is current only then.
    return this.local && this.client.isReady ? this.local.peek(key) : undefined;
  }

  async get(key: string): Promise<string | undefined> {
    if (!this.local) return (await this.bounded(this.client.get(key))) ?? undefined;
    const copy = this.peek(key);
    if (copy !== undefined) return copy;
    // An invalidation decoded while this read is in flight removes its token: the reply may hold
    // the value from before the write, so it is returned but not kept.
    const token = {};
    this.inFlight.set(key, token);
    try {
      // One pipelined round trip: the value, and how long Redis keeps it.
      const [value, pttl] = await this.bounded(
        Promise.all([this.client.get(key), this.client.pTTL(key)]),
      );
      if (value !== null && this.inFlight.get(key) === token && pttl !== -2) {
        const ttlMs = pttl === -1 ? this.localMaxTtlMs : Math.min(pttl, this.localMaxTtlMs);
        if (ttlMs > 0) this.local.put(key, value, ttlMs / 1000);
      }
      return value ?? undefined;
    } finally {
      if (this.inFlight.get(key) === token) this.inFlight.delete(key);
    }
  }

  /** How many local copies are held (0 without client-side caching). */
  get localCopies(): number {
    return this.local?.size ?? 0;
  }

  private invalidate(key: unknown): void {
    if (key === null) return this.dropLocal();
    const name = String(key);
    this.local?.delete(name);
    this.inFlight.delete(name);
  }

  private dropLocal(): void {
    this.local?.clear();
    this.inFlight.clear();
  }

  async set(key: string, value: string, ttlSeconds: number): Promise<void> {
    // Its own write must not leave the old copy readable until the invalidation comes back.
    this.invalidate(key);
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
    for (const [k] of entries) this.invalidate(k);
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

function trackingRefused(err: Error): boolean {
  return /client\|tracking|CLIENT TRACKING|unknown subcommand 'tracking'/i.test(err.message);
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
