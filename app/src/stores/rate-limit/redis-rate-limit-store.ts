import { createHash } from 'node:crypto';
import { createClient } from 'redis';
import type {
  RateLimitCheck,
  RateLimitDecision,
  RateLimitPolicy,
  RateLimitState,
  RateLimitStore,
} from '../../domain/rate-limit';
import { reconnectDelayMs, RedisCommandTimeoutError } from '../cache/redis-cache';
import { gcraParams, type GcraParams } from './gcra';

// GCRA (gcra.ts) in Redis, shared by every replica: ONE Lua script per request checks every quota
// the request draws from and spends them all or none, so N concurrent requests against a quota of
// M admit exactly M whatever replica each lands on. The clock is Redis's own TIME, one clock for
// the whole fleet (pods' clocks drift apart; a TAT written by one pod must mean the same to all).
// Redis 7 replicates a script's effects, not the script, so calling TIME before writing is allowed.
// A request's keys may hash to different slots: Redis Cluster would refuse the script (CROSSSLOT).
// The platform's ElastiCache replication group is not in cluster mode, nor is any other stack's.
//
// KEYS: one per check. ARGV: cost, then per key its emission interval and tolerance (µs, integers).
// Reply: allowed (0/1), then per key: remaining units, ms until whole, ms until this cost fits.
// TATs are written with string.format('%d'): Lua 5.1's tostring keeps only 14 significant digits,
// and a TAT in µs since the epoch has 16.
export const gcraScript = `
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000000 + tonumber(now_parts[2])
local cost = tonumber(ARGV[1])
local tats = {}
local allowed = 1
for i = 1, #KEYS do
  local interval = tonumber(ARGV[2 * i])
  local tolerance = tonumber(ARGV[2 * i + 1])
  local tat = tonumber(redis.call('GET', KEYS[i]) or now)
  if tat < now then tat = now end
  tats[i] = tat
  if tat + cost * interval - tolerance > now then allowed = 0 end
end
local reply = { allowed }
for i = 1, #KEYS do
  local interval = tonumber(ARGV[2 * i])
  local tolerance = tonumber(ARGV[2 * i + 1])
  local next_tat = tats[i] + cost * interval
  local allow_at = next_tat - tolerance
  local held = tats[i]
  local retry = 0
  if allowed == 1 then
    held = next_tat
    redis.call('SET', KEYS[i], string.format('%d', next_tat), 'PX', math.ceil((next_tat - now) / 1000))
  elseif allow_at > now then
    retry = math.ceil((allow_at - now) / 1000)
  end
  local remaining = math.floor((tolerance - (held - now)) / interval)
  if remaining < 0 then remaining = 0 end
  reply[#reply + 1] = remaining
  reply[#reply + 1] = math.ceil((held - now) / 1000)
  reply[#reply + 1] = retry
end
return reply
`;

const scriptSha = createHash('sha1').update(gcraScript).digest('hex');

export interface RedisRateLimitStoreOptions {
  /** Upper bound of one decision, in ms: past it the caller falls back. Default 100. */
  readonly commandTimeoutMs?: number;
  readonly connectTimeoutMs?: number;
  readonly maxReconnectDelayMs?: number;
  /** Prefix of every key (one Redis may serve several environments or services). */
  readonly keyPrefix?: string;
  readonly onError?: (err: Error) => void;
}

export class RedisRateLimitStore implements RateLimitStore {
  readonly kind = 'redis' as const;
  private readonly client: ReturnType<typeof createClient>;
  private readonly commandTimeoutMs: number;
  private readonly keyPrefix: string;
  private readonly params = new Map<RateLimitPolicy, GcraParams>();

  constructor(url: string, options: RedisRateLimitStoreOptions = {}) {
    const maxDelay = options.maxReconnectDelayMs ?? 2_000;
    // Its own connection, not the cache's: a decision never queues behind a large cache read.
    this.client = createClient({
      url,
      socket: {
        connectTimeout: options.connectTimeoutMs ?? 1_000,
        reconnectStrategy: (retries) => reconnectDelayMs(retries, maxDelay),
      },
      // Offline, a decision fails at once (and the caller falls back) instead of waiting in a queue.
      disableOfflineQueue: true,
    });
    this.commandTimeoutMs = options.commandTimeoutMs ?? 100;
    this.keyPrefix = options.keyPrefix ?? 'rl:';
    const onError = options.onError ?? (() => undefined);
    this.client.on('error', (err: Error) => onError(err));
    this.client.connect().catch(() => undefined);
  }

  get ready(): boolean {
    return this.client.isReady;
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

  async consume(checks: readonly RateLimitCheck[], cost: number): Promise<RateLimitDecision> {
    const args = ['EVALSHA', scriptSha, String(checks.length)];
    for (const check of checks) args.push(this.keyPrefix + check.key);
    args.push(String(cost));
    for (const check of checks) {
      const p = this.paramsOf(check.policy);
      args.push(String(p.intervalUs), String(p.toleranceUs));
    }
    let reply: number[];
    try {
      reply = await this.bounded(this.client.sendCommand<number[]>(args));
    } catch (err) {
      // A Redis that restarted or failed over has an empty script cache: EVAL loads it again.
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      args[0] = 'EVAL';
      args[1] = gcraScript;
      reply = await this.bounded(this.client.sendCommand<number[]>(args));
    }
    const states: RateLimitState[] = [];
    for (let i = 0; i < checks.length; i++) {
      states.push({
        remaining: reply[1 + 3 * i],
        resetMs: reply[2 + 3 * i],
        retryAfterMs: reply[3 + 3 * i],
      });
    }
    return { allowed: reply[0] === 1, states };
  }

  async ping(): Promise<void> {
    await this.bounded(this.client.ping());
  }

  private paramsOf(policy: RateLimitPolicy): GcraParams {
    let p = this.params.get(policy);
    if (!p) {
      p = gcraParams(policy);
      this.params.set(policy, p);
    }
    return p;
  }

  /** The whole call is bounded here (node-redis's own timeout stops once a command is written). */
  private bounded<T>(reply: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new RedisCommandTimeoutError(this.commandTimeoutMs)),
        this.commandTimeoutMs,
      );
      reply.then(resolve, reject).finally(() => clearTimeout(timer));
    });
  }

  async close(): Promise<void> {
    if (!this.client.isOpen) return;
    try {
      if (this.client.isReady) await this.client.close();
    } catch {
      // Closing a connection that just dropped is not worth an error at shutdown.
    } finally {
      if (this.client.isOpen) this.client.destroy();
    }
  }
}
