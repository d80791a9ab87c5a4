import type {
  RateLimitCheck,
  RateLimitDecision,
  RateLimitPolicy,
  RateLimitState,
  RateLimitStore,
} from '../../domain/rate-limit';
import { gcraParams, type GcraParams } from './gcra';

// The same GCRA as the Redis script, counted in this process only: the embedded default's limiter
// (one process, so exact) and the fallback while Redis is unreachable, where each replica enforces
// its share of every policy (`share` = 1 / expected replicas), so the fleet admits about the
// configured rate: neither everything (fail-open) nor nothing (fail-all).

export interface LocalRateLimitStoreOptions {
  /** Fraction of each policy this process enforces (1 / expected replica count). Default 1. */
  readonly share?: number;
  /** Smallest burst a shared policy keeps: the dearest operation must still fit. Default 1. */
  readonly minBurst?: number;
  /** Keys kept before expired ones are swept (and, if still above, the oldest dropped). */
  readonly maxKeys?: number;
  /** Monotonic clock in microseconds (tests drive it). */
  readonly nowUs?: () => number;
}

// Whole microseconds, as in Redis: with integer TATs and intervals every sum below is exact, so a
// request that exactly fits the burst is never refused over a rounding error.
const monotonicUs = () => performance.now() * 1_000;

export class LocalRateLimitStore implements RateLimitStore {
  readonly kind = 'local' as const;
  private readonly tats = new Map<string, number>();
  private readonly params = new Map<RateLimitPolicy, GcraParams>();
  private readonly share: number;
  private readonly minBurst: number;
  private readonly maxKeys: number;
  private readonly nowUs: () => number;

  constructor(options: LocalRateLimitStoreOptions = {}) {
    this.share = options.share ?? 1;
    this.minBurst = options.minBurst ?? 1;
    this.maxKeys = options.maxKeys ?? 100_000;
    this.nowUs = options.nowUs ?? monotonicUs;
  }

  consume(checks: readonly RateLimitCheck[], cost: number): Promise<RateLimitDecision> {
    return Promise.resolve(this.consumeNow(checks, cost));
  }

  /** Synchronous, hence atomic: no other request runs between reading and writing the TATs. */
  consumeNow(checks: readonly RateLimitCheck[], cost: number): RateLimitDecision {
    const now = Math.floor(this.nowUs());
    const tats: number[] = [];
    let allowed = true;
    for (const check of checks) {
      const p = this.paramsOf(check.policy);
      const tat = Math.max(this.tats.get(check.key) ?? now, now);
      tats.push(tat);
      if (tat + cost * p.intervalUs - p.toleranceUs > now) allowed = false;
    }
    const states: RateLimitState[] = [];
    for (let i = 0; i < checks.length; i++) {
      const p = this.paramsOf(checks[i].policy);
      const next = tats[i] + cost * p.intervalUs;
      const allowAt = next - p.toleranceUs;
      const held = allowed ? next : tats[i];
      if (allowed) this.tats.set(checks[i].key, next);
      states.push({
        remaining: Math.max(0, Math.floor((p.toleranceUs - (held - now)) / p.intervalUs)),
        resetMs: Math.ceil((held - now) / 1_000),
        retryAfterMs: allowed || allowAt <= now ? 0 : Math.ceil((allowAt - now) / 1_000),
      });
    }
    if (allowed && this.tats.size > this.maxKeys) this.sweep(now);
    return { allowed, states };
  }

  private paramsOf(policy: RateLimitPolicy): GcraParams {
    let p = this.params.get(policy);
    if (!p) {
      p = gcraParams(policy, this.share, this.minBurst);
      this.params.set(policy, p);
    }
    return p;
  }

  /** A key whose TAT passed holds a whole quota: forgetting it changes nothing. */
  private sweep(now: number): void {
    for (const [key, tat] of this.tats) if (tat <= now) this.tats.delete(key);
    // Still too many live keys (a flood of distinct clients): drop the oldest, which only errs
    // towards admitting them, and bounds the memory an attacker can make this process hold.
    for (const key of this.tats.keys()) {
      if (this.tats.size <= this.maxKeys * 0.9) break;
      this.tats.delete(key);
    }
  }
}
