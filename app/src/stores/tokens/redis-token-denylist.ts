import { createClient } from 'redis';
import { DependencyUnavailableError } from '../../domain/errors';
import type { TokenDenylist } from '../../domain/tokens';
import { reconnectDelayMs } from '../cache/redis-cache';

// Revoked access tokens in Redis, one key per `jti` that expires when the token would: the denylist
// never outgrows the tokens still alive. Shared by every instance, so a revocation anywhere holds
// everywhere at once.
//
// With Redis unreachable it fails closed: deny() and isDenied() throw DependencyUnavailableError, so a
// JWT-authenticated request answers 503 rather than honouring a token that may have been revoked
// (a stolen laptop's session is exactly what revocation is for, and a token lives 15 minutes). API
// keys do not depend on Redis and keep working; the outage is visible as rag_dependency_up{redis}.
// Its own connection, not the cache's: the cache treats every failure as a miss, this must not.

export class RedisTokenDenylist implements TokenDenylist {
  readonly kind = 'redis' as const;
  private readonly client: ReturnType<typeof createClient>;

  constructor(
    url: string,
    private readonly options: {
      readonly commandTimeoutMs?: number;
      readonly maxReconnectDelayMs?: number;
      readonly keyPrefix?: string;
      readonly onError?: (err: Error) => void;
    } = {},
  ) {
    const maxDelay = options.maxReconnectDelayMs ?? 2_000;
    this.client = createClient({
      url,
      socket: {
        connectTimeout: 1_000,
        reconnectStrategy: (retries) => reconnectDelayMs(retries, maxDelay),
      },
      // Fail at once while disconnected instead of queueing behind a reconnect.
      disableOfflineQueue: true,
    });
    this.client.on('error', (err: Error) => options.onError?.(err));
    this.client.connect().catch(() => undefined);
  }

  private key(jti: string): string {
    return `${this.options.keyPrefix ?? 'rag:jwt:denied:'}${jti}`;
  }

  async waitUntilReady(timeoutMs = 2_000): Promise<void> {
    if (this.client.isReady) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.client.off('ready', onReady);
        reject(new Error(`redis not ready after ${timeoutMs} ms`));
      }, timeoutMs);
      const onReady = () => {
        clearTimeout(timer);
        resolve();
      };
      this.client.once('ready', onReady);
    });
  }

  async deny(jti: string, expiresAt: Date): Promise<void> {
    const ttlMs = expiresAt.getTime() - Date.now();
    // An expired token is refused by its `exp` already: nothing to remember.
    if (ttlMs <= 0) return;
    await this.bounded(
      this.client.set(this.key(jti), '1', { expiration: { type: 'PX', value: ttlMs } }),
    );
  }

  async isDenied(jti: string): Promise<boolean> {
    return (await this.bounded(this.client.exists(this.key(jti)))) === 1;
  }

  /** The command timeout covers the whole call (see RedisCache.bounded for why). */
  private bounded<T>(reply: Promise<T>): Promise<T> {
    const timeoutMs = this.options.commandTimeoutMs ?? 250;
    return new Promise<T>((resolve, reject) => {
      const fail = (cause: unknown) =>
        reject(
          new DependencyUnavailableError('redis', 'the token denylist is unreachable', { cause }),
        );
      const timer = setTimeout(() => fail(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
      reply.then(resolve, fail).finally(() => clearTimeout(timer));
    });
  }

  async close(): Promise<void> {
    if (!this.client.isOpen) return;
    try {
      if (this.client.isReady) await this.client.close();
    } catch {
      // A connection that just dropped is not worth an error at shutdown.
    } finally {
      if (this.client.isOpen) this.client.destroy();
    }
  }
}
