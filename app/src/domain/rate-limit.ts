// Rate limiting as the HTTP layer sees it: a request spends `cost` units from one or more quotas
// (the caller's tier, its client address) at once, all or nothing. Where the quotas live (Redis,
// shared by every replica; or this process alone) is a store's business.

/** A named quota: `burst` units at once, refilled continuously at `rate` units per second. */
export interface RateLimitPolicy {
  /** The policy's name in the RateLimit / RateLimit-Policy headers (a tier name). */
  readonly name: string;
  readonly rate: number;
  readonly burst: number;
}

/** One quota a request draws from: the policy and the partition (caller or client address). */
export interface RateLimitCheck {
  readonly key: string;
  readonly policy: RateLimitPolicy;
}

/** What one check says after the request was counted (or refused). */
export interface RateLimitState {
  /** Whole units still available under the policy. */
  readonly remaining: number;
  /** Milliseconds until the quota is whole again. */
  readonly resetMs: number;
  /** Milliseconds until this request's cost would fit; 0 when the policy admitted it. */
  readonly retryAfterMs: number;
}

export interface RateLimitDecision {
  /** True when every check admitted the request; then, and only then, every quota was spent. */
  readonly allowed: boolean;
  /** One state per check, in the order given. */
  readonly states: readonly RateLimitState[];
}

/** Where quotas are counted. Implementations are atomic: concurrent requests never overspend. */
export interface RateLimitStore {
  readonly kind: 'redis' | 'local';
  consume(checks: readonly RateLimitCheck[], cost: number): Promise<RateLimitDecision>;
}
