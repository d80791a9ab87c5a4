import { rateLimitingEnabled, type Config } from '../config';
import type { RateLimitOptions } from '../http/middleware/rate-limit';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import { rateLimitRules } from '../security/rate-limit-rules';
import {
  ResilientRateLimiter,
  singleStoreLimiter,
  type RateLimiter,
} from '../security/resilient-rate-limiter';
import { LocalRateLimitStore } from '../stores/rate-limit/local-rate-limit-store';
import { RedisRateLimitStore } from '../stores/rate-limit/redis-rate-limit-store';
import type { Closers } from './closers';

/** How often a limiter that fell back to per-process limits asks Redis whether it is back. */
const recoveryProbeMs = 1_000;

/**
 * The limiter behind /v1: Redis shared by every replica when REDIS_URL is set, with this process's
 * share as the fallback; without Redis (the embedded default, one process) the local store alone.
 */
export async function createRateLimiting(
  config: Config,
  deps: { metrics: Metrics; logger: Logger; closers: Closers },
): Promise<RateLimitOptions | undefined> {
  if (!rateLimitingEnabled(config)) return undefined;
  const rules = rateLimitRules(config);
  const dearest = Math.max(...Object.values(config.RATE_LIMIT_COSTS));
  let limiter: RateLimiter;
  if (!config.REDIS_URL) {
    limiter = singleStoreLimiter(new LocalRateLimitStore({ minBurst: dearest }));
  } else {
    const redis = new RedisRateLimitStore(config.REDIS_URL, {
      commandTimeoutMs: config.RATE_LIMIT_REDIS_TIMEOUT_MS,
      onError: (err) => deps.logger.debug('rate-limit redis connection error', { err }),
    });
    deps.closers.push(() => redis.close());
    await redis
      .waitUntilReady(2_000)
      .catch((err) => deps.logger.warn('rate limiting starts without redis', { err }));
    const share = new LocalRateLimitStore({
      share: 1 / config.RATE_LIMIT_EXPECTED_REPLICAS,
      minBurst: dearest,
    });
    limiter = new ResilientRateLimiter(redis, share, {
      metrics: deps.metrics,
      logger: deps.logger,
      probeIntervalMs: recoveryProbeMs,
    });
  }
  deps.closers.push(async () => limiter.close());
  return { limiter, rules };
}
