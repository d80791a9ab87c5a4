import type { RateLimitPolicy } from '../../domain/rate-limit';

// GCRA (the generic cell rate algorithm, a leaky bucket kept as one number per key): each key
// stores its "theoretical arrival time" (TAT), the moment its quota would be whole again. A request
// of cost c moves the TAT c emission intervals later, and is admitted while that new TAT is at most
// one burst ahead of now. One read and one write per key, no timers, exact under any interleaving
// as long as the read-modify-write is atomic (one Lua script in Redis; one synchronous turn here).

/** A policy in GCRA terms, in microseconds (integers, so Redis's Lua doubles stay exact). */
export interface GcraParams {
  /** Time one unit takes to refill. */
  readonly intervalUs: number;
  /** How far ahead of now the TAT may run: the burst, as time. */
  readonly toleranceUs: number;
}

export function gcraParams(policy: RateLimitPolicy, share = 1, minBurst = 1): GcraParams {
  const rate = policy.rate * share;
  const burst = Math.max(minBurst, Math.ceil(policy.burst * share));
  const intervalUs = Math.max(1, Math.round(1_000_000 / rate));
  return { intervalUs, toleranceUs: intervalUs * burst };
}
