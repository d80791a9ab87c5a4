import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { Principal } from '../../src/domain/principal';
import { rateLimit } from '../../src/http/middleware/rate-limit';
import { createLogger } from '../../src/observability/logger';
import { createMetrics } from '../../src/observability/metrics';
import { rateLimitRules } from '../../src/security/rate-limit-rules';
import { defaultOperationCosts } from '../../src/security/rate-limit-config';
import { ResilientRateLimiter } from '../../src/security/resilient-rate-limiter';
import { LocalRateLimitStore } from '../../src/stores/rate-limit/local-rate-limit-store';
import { RedisRateLimitStore } from '../../src/stores/rate-limit/redis-rate-limit-store';
import { apiClient } from '../support/http-client';
import { uniqueName } from '../support/test-service';

// Authenticated traffic: until authentication lands in app.ts, a test-only middleware in front
// plays it, setting res.locals.principal as the contract says (PREAMBLE: authn → rate limit).
// The limiter is the real one, on the run's real Redis.

const redisUrl = process.env.REDIS_URL;
if (!redisUrl) {
  throw new Error('REDIS_URL is not set: run via `npm test` or source scripts/test-services.sh up');
}

describe('rate limiting per principal (middleware after authentication)', function () {
  this.timeout(30_000);
  let server: Server;
  let store: RedisRateLimitStore;
  let limiter: ResilientRateLimiter;
  let api: ReturnType<typeof apiClient>;
  const suffix = uniqueName('t').replace(/[^A-Za-z0-9_.-]/g, '');
  const gold = `gold-${suffix}`;
  const ipTier = `ip-${suffix}`;

  before(async () => {
    store = new RedisRateLimitStore(redisUrl, { commandTimeoutMs: 2_000 });
    await store.waitUntilReady();
    const metrics = createMetrics();
    limiter = new ResilientRateLimiter(store, new LocalRateLimitStore(), {
      metrics,
      logger: createLogger({ level: 'silent', service: 'test' }),
      probeIntervalMs: 1_000,
    });
    const rules = rateLimitRules({
      RATE_LIMIT_TIERS: {
        default: { rate: 0.001, burst: 10 },
        [gold]: { rate: 0.001, burst: 30 },
        [ipTier]: { rate: 0.001, burst: 45 },
      },
      RATE_LIMIT_IP_TIER: ipTier,
      RATE_LIMIT_COSTS: defaultOperationCosts,
      RATE_LIMIT_ALLOW_PRINCIPALS: ['batch-job'],
      RATE_LIMIT_DENY_PRINCIPALS: ['banned'],
      RATE_LIMIT_ALLOW_CIDRS: [],
      RATE_LIMIT_DENY_CIDRS: [],
    });
    const app = express();
    app.set('trust proxy', 1);
    app.use((req, res, next) => {
      const id = req.header('x-test-principal');
      if (id) {
        const principal: Principal = {
          id: `${id}`,
          superAdmin: false,
          roles: {},
          credential: { kind: 'api-key', id: 'k' },
          tier: req.header('x-test-tier') ?? 'default',
        };
        res.locals.principal = principal;
      }
      next();
    });
    app.use(rateLimit({ limiter, rules, metrics }));
    app.use((_req, res) => {
      res.json({ ok: true });
    });
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    api = apiClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  });
  after(async () => {
    server?.close();
    limiter?.close();
    await store?.close();
  });

  const client = () =>
    `172.16.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`;
  const call = (address: string, principal?: string, tier?: string) =>
    api.request('GET', '/v1/collections', undefined, {
      headers: {
        'x-forwarded-for': address,
        ...(principal ? { 'x-test-principal': principal } : {}),
        ...(tier ? { 'x-test-tier': tier } : {}),
      },
    });
  const admitted = async (n: number, address: string, principal?: string, tier?: string) => {
    const responses = await Promise.all(
      Array.from({ length: n }, () => call(address, principal, tier)),
    );
    return responses.filter((r) => r.status === 200).length;
  };

  it("holds each principal to its tier's quota, whatever address it comes from", async () => {
    const alice = uniqueName('alice');
    assert.equal(await admitted(20, client(), alice), 10, 'default tier');
    assert.equal(await admitted(5, client(), alice), 0, 'a new address does not reset it');
    assert.equal(await admitted(40, client(), uniqueName('bob'), gold), 30, 'gold tier');
    assert.equal(
      await admitted(20, client(), uniqueName('carol'), 'no-such-tier'),
      10,
      'an unknown tier is the default',
    );
  });

  it('advertises both policies a principal draws from', async () => {
    const r = await call(client(), uniqueName('dave'), gold);
    assert.equal(
      r.headers.get('ratelimit-policy'),
      `"${gold}";q=30;w=30000, "${ipTier}";q=45;w=45000`,
    );
    assert.equal(r.headers.get('ratelimit'), `"${gold}";r=29;t=1000, "${ipTier}";r=44;t=1000`);
  });

  it("bounds all principals behind one address by the address's quota", async () => {
    const shared = client();
    const principals = [1, 2, 3].map(() => uniqueName('nat'));
    const counts = await Promise.all(principals.map((p) => admitted(20, shared, p, gold)));
    assert.equal(
      counts.reduce((a, b) => a + b),
      45,
      `${counts.join('+')}: the address's 45, not 3 × 30`,
    );
  });

  it('refuses denied principals with 403 and never limits allowed ones', async () => {
    const denied = await call(client(), 'banned');
    assert.equal(denied.status, 403);
    assert.equal(denied.body.type, 'urn:rag-platform:problem:forbidden');
    assert.equal(await admitted(60, client(), 'batch-job'), 60);
  });
});
