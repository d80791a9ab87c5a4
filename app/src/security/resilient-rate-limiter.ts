import type { RateLimitCheck, RateLimitDecision, RateLimitStore } from '../domain/rate-limit';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';

// The limiter the HTTP layer calls: the shared store (Redis) while it answers, this process's own
// share of every quota while it does not. The first failed decision switches to the local store,
// so no request waits on a dead Redis twice; a background ping switches back once Redis answers.
// Each switch is logged once and shows as rag_rate_limit_fallback.

export interface SharedRateLimitStore extends RateLimitStore {
  ping(): Promise<void>;
}

export interface RateLimiter {
  consume(
    checks: readonly RateLimitCheck[],
    cost: number,
  ): Promise<RateLimitDecision & { readonly store: RateLimitStore['kind'] }>;
  /** True while decisions are counted per process because the shared store is unreachable. */
  readonly fallingBack: boolean;
  close(): void;
}

/** A single store (the embedded default has no Redis): no fallback to manage. */
export function singleStoreLimiter(store: RateLimitStore): RateLimiter {
  return {
    fallingBack: false,
    async consume(checks, cost) {
      return { ...(await store.consume(checks, cost)), store: store.kind };
    },
    close: () => undefined,
  };
}

export class ResilientRateLimiter implements RateLimiter {
  private fallback = false;
  private probe: NodeJS.Timeout | undefined;

  constructor(
    private readonly shared: SharedRateLimitStore,
    private readonly local: RateLimitStore,
    private readonly deps: { metrics: Metrics; logger: Logger; probeIntervalMs: number },
  ) {
    deps.metrics.rateLimitFallback.set(0);
  }

  get fallingBack(): boolean {
    return this.fallback;
  }

  async consume(checks: readonly RateLimitCheck[], cost: number) {
    if (!this.fallback) {
      try {
        return { ...(await this.shared.consume(checks, cost)), store: this.shared.kind };
      } catch (err) {
        this.enterFallback(err as Error);
      }
    }
    return { ...(await this.local.consume(checks, cost)), store: this.local.kind };
  }

  private enterFallback(err: Error): void {
    if (this.fallback) return;
    this.fallback = true;
    this.deps.metrics.rateLimitFallback.set(1);
    this.deps.logger.warn('rate limiting falls back to per-process limits: redis unreachable', {
      err,
    });
    this.probe = setInterval(() => void this.tryRecover(), this.deps.probeIntervalMs);
    this.probe.unref();
  }

  private async tryRecover(): Promise<void> {
    try {
      await this.shared.ping();
    } catch {
      return;
    }
    if (!this.fallback) return;
    this.fallback = false;
    clearInterval(this.probe);
    this.probe = undefined;
    this.deps.metrics.rateLimitFallback.set(0);
    this.deps.logger.info('rate limiting is back on redis (limits shared by every replica)');
  }

  close(): void {
    clearInterval(this.probe);
    this.probe = undefined;
  }
}
