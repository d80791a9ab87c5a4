import type { RequestHandler, Response } from 'express';
import type { Principal } from '../../domain/principal';
import type { RateLimitCheck, RateLimitState } from '../../domain/rate-limit';
import type { Metrics } from '../../observability/metrics';
import type { RateLimiter } from '../../security/resilient-rate-limiter';
import {
  isLimitedPath,
  listed,
  operationClass,
  type AdvertisedPolicy,
  type RateLimitRules,
} from '../../security/rate-limit-rules';
import { HttpProblem, sendProblem } from '../problem';

// Runs right after authentication (app.ts): every /v1 request spends its operation's cost from
// its principal's tier (when authenticated) and from its client address's quota, both or neither,
// in one limiter call (one Redis round trip). Deny lists answer 403, allow lists skip the limit.
// Headers follow draft-ietf-httpapi-ratelimit-headers-11 (May 2026):
//   RateLimit-Policy: "default";q=100;w=5, "ip";q=400;w=4      (every response)
//   RateLimit: "default";r=95;t=1, "ip";r=395;t=1              (r: units left, t: s until whole)
// On a 429 RateLimit names only the violated policies, with t = the seconds until this request's
// cost fits, and Retry-After equals the largest such t (§6: Retry-After must not end before the
// effective window does). The problem carries §5.1's `violated-policies` member.

export interface RateLimitOptions {
  readonly limiter: RateLimiter;
  readonly rules: RateLimitRules;
}

const seconds = (ms: number) => Math.ceil(ms / 1_000);

export function rateLimit(options: RateLimitOptions & { metrics: Metrics }): RequestHandler {
  const { limiter, rules, metrics } = options;
  const counted = {
    allowed: {
      redis: metrics.rateLimitDecisions.labels('allowed', 'redis'),
      local: metrics.rateLimitDecisions.labels('allowed', 'local'),
    },
    limited: {
      redis: metrics.rateLimitDecisions.labels('limited', 'redis'),
      local: metrics.rateLimitDecisions.labels('limited', 'local'),
    },
    denied: metrics.rateLimitDecisions.labels('denied', 'none'),
    exempt: metrics.rateLimitDecisions.labels('exempt', 'none'),
  };
  const ipOnly = rules.ipTier.header;

  return (req, res, next) => {
    if (!isLimitedPath(req.path)) return next();
    const principal = res.locals.principal as Principal | undefined;
    const address = req.ip ?? req.socket.remoteAddress ?? 'unknown';

    if (
      (principal && rules.denyPrincipals.has(principal.id)) ||
      listed(rules.denyAddresses, address)
    ) {
      counted.denied.inc();
      return sendProblem(
        res,
        new HttpProblem(403, 'forbidden', 'Forbidden', 'This client may not use the API.'),
      );
    }
    if (
      (principal && rules.allowPrincipals.has(principal.id)) ||
      listed(rules.allowAddresses, address)
    ) {
      counted.exempt.inc();
      return next();
    }

    const cost = rules.costs[operationClass(req.method, req.path)];
    // Keys name their policy: a tier renamed or re-assigned starts from a whole quota.
    const ipCheck: RateLimitCheck = {
      key: `ip:${rules.ipTier.name}:${address}`,
      policy: rules.ipTier,
    };
    let checks: RateLimitCheck[];
    let policyHeader: string;
    if (principal) {
      const tier = rules.tiers.get(principal.tier) ?? rules.defaultTier;
      checks = [{ key: `p:${tier.name}:${principal.id}`, policy: tier }, ipCheck];
      policyHeader = `${tier.header}, ${ipOnly}`;
    } else {
      checks = [ipCheck];
      policyHeader = ipOnly;
    }

    limiter.consume(checks, cost).then((decision) => {
      res.setHeader('RateLimit-Policy', policyHeader);
      if (decision.allowed) {
        counted.allowed[decision.store].inc();
        res.setHeader('RateLimit', serviceLimits(checks, decision.states));
        return next();
      }
      counted.limited[decision.store].inc();
      tooManyRequests(res, checks, decision.states, cost);
    }, next);
  };
}

function serviceLimits(checks: readonly RateLimitCheck[], states: readonly RateLimitState[]) {
  let value = '';
  for (let i = 0; i < checks.length; i++) {
    if (i > 0) value += ', ';
    value += `"${checks[i].policy.name}";r=${states[i].remaining};t=${seconds(states[i].resetMs)}`;
  }
  return value;
}

function tooManyRequests(
  res: Response,
  checks: readonly RateLimitCheck[],
  states: readonly RateLimitState[],
  cost: number,
): void {
  const violated: string[] = [];
  const limits: string[] = [];
  let retryAfter = 1;
  for (let i = 0; i < checks.length; i++) {
    if (states[i].retryAfterMs <= 0) continue;
    const policy = checks[i].policy as AdvertisedPolicy;
    const wait = Math.max(1, seconds(states[i].retryAfterMs));
    retryAfter = Math.max(retryAfter, wait);
    violated.push(policy.name);
    limits.push(`"${policy.name}";r=${states[i].remaining};t=${wait}`);
  }
  res.setHeader('RateLimit', limits.join(', '));
  res.setHeader('Retry-After', String(retryAfter));
  sendProblem(
    res,
    new HttpProblem(
      429,
      'rate-limited',
      'Too many requests',
      `This request costs ${cost} units; quota ${violated.map((v) => `"${v}"`).join(', ')} ` +
        `affords it again in ${retryAfter} s.`,
      { 'violated-policies': violated },
    ),
  );
}
