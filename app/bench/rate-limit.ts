// `npm run bench -- rate-limit`: what rate limiting adds to a request (issue 8: authentication plus
// rate limiting within 1 ms of the cached query's p50). Two Express apps in this process, identical
// but for the limiter (its real Redis store, a principal's tier and the client address's quota, so
// the two-key script), answer the same tiny JSON route; requests alternate between them in rounds
// so load from elsewhere on the machine hits both. The difference of their p50s is the limiter's
// price on any route, the cached query included. Also times the decision alone (Redis round trip)
// and the per-process fallback. Quotas are huge: every request is admitted, as on the hot path.

import { Agent, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg } from 'node:os';
import express, { type Express, type RequestHandler } from 'express';
import type { Principal } from '../src/domain/principal';
import { rateLimit } from '../src/http/middleware/rate-limit';
import { createLogger } from '../src/observability/logger';
import { createMetrics } from '../src/observability/metrics';
import { defaultOperationCosts } from '../src/security/rate-limit-config';
import { rateLimitRules } from '../src/security/rate-limit-rules';
import { ResilientRateLimiter } from '../src/security/resilient-rate-limiter';
import { LocalRateLimitStore } from '../src/stores/rate-limit/local-rate-limit-store';
import { RedisRateLimitStore } from '../src/stores/rate-limit/redis-rate-limit-store';
import { acquireBackingServices } from './bench-services';
import { summarize } from './bench-stats';

const rounds = 6;
const perRound = 1_000;

function app(withLimiter: RequestHandler | undefined): Express {
  const a = express();
  a.disable('x-powered-by');
  a.set('etag', false);
  const principal: Principal = {
    id: 'bench',
    superAdmin: false,
    roles: {},
    credential: { kind: 'api-key', id: 'bench' },
    tier: 'default',
  };
  // Stands in for authentication, in both apps alike.
  a.use((_req, res, next) => {
    res.locals.principal = principal;
    next();
  });
  if (withLimiter) a.use(withLimiter);
  a.get('/v1/collections', (_req, res) => {
    res.json({ hello: 'world' });
  });
  return a;
}

async function listen(a: Express): Promise<{ server: Server; port: number }> {
  const server = a.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

const agent = new Agent({ keepAlive: true, maxSockets: 1 });

function get(port: number): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/v1/collections', agent }, (res) => {
      res.resume();
      res.on('end', () => {
        if (res.statusCode !== 200) reject(new Error(`status ${res.statusCode}`));
        else resolve(performance.now() - started);
      });
    });
    req.on('error', reject);
    req.end();
  });
}

async function timeCalls(n: number, call: () => Promise<unknown>): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const started = performance.now();
    await call();
    samples.push(performance.now() - started);
  }
  return samples;
}

export async function runRateLimitBench(): Promise<void> {
  const services = await acquireBackingServices();
  const store = new RedisRateLimitStore(services.redisUrl, { commandTimeoutMs: 1_000 });
  const metrics = createMetrics();
  const limiter = new ResilientRateLimiter(store, new LocalRateLimitStore(), {
    metrics,
    logger: createLogger({ level: 'silent', service: 'bench' }),
    probeIntervalMs: 1_000,
  });
  const rules = rateLimitRules({
    RATE_LIMIT_TIERS: {
      default: { rate: 1_000_000, burst: 1_000_000 },
      ip: { rate: 1_000_000, burst: 1_000_000 },
    },
    RATE_LIMIT_IP_TIER: 'ip',
    RATE_LIMIT_COSTS: defaultOperationCosts,
    RATE_LIMIT_ALLOW_PRINCIPALS: [],
    RATE_LIMIT_DENY_PRINCIPALS: [],
    RATE_LIMIT_ALLOW_CIDRS: [],
    RATE_LIMIT_DENY_CIDRS: ['203.0.113.0/24'],
  });
  const bare = await listen(app(undefined));
  const limited = await listen(app(rateLimit({ limiter, rules, metrics })));
  // Any Redis round trip in the same place, for scale: what the limiter adds beyond one is its own.
  const pinged = await listen(
    app((_req, _res, next) => {
      store.ping().then(() => next(), next);
    }),
  );
  try {
    await store.waitUntilReady();
    // Warm the JIT and the connections (the script's first call loads it into Redis).
    for (let i = 0; i < 500; i++)
      for (const port of [bare.port, limited.port, pinged.port]) await get(port);
    const without: number[] = [];
    const withLimit: number[] = [];
    const withPing: number[] = [];
    for (let r = 0; r < rounds; r++) {
      without.push(...(await timeCalls(perRound, () => get(bare.port))));
      withLimit.push(...(await timeCalls(perRound, () => get(limited.port))));
      withPing.push(...(await timeCalls(perRound, () => get(pinged.port))));
    }
    const checks = [
      { key: 'p:default:bench-direct', policy: rules.defaultTier },
      { key: 'ip:ip:127.0.0.1', policy: rules.ipTier },
    ];
    const decision = await timeCalls(5_000, () => store.consume(checks, 1));
    const local = new LocalRateLimitStore({ share: 1 / 3 });
    const fallback = await timeCalls(50_000, () => local.consume(checks, 1));

    const a = summarize(without);
    const b = summarize(withLimit);
    const rows = [
      ['request, no limiter', a],
      ['request, rate limited (Redis)', b],
      ['request, one Redis PING instead', summarize(withPing)],
      ['decision alone (Redis script)', summarize(decision)],
      ['decision alone (per-process fallback)', summarize(fallback)],
    ] as const;
    console.log(
      `\nsequential requests over one keep-alive connection, ms (load average ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}, ${cpus().length} CPUs)`,
    );
    console.log(
      'scenario'.padEnd(40) +
        'n'.padStart(7) +
        'p50'.padStart(9) +
        'p95'.padStart(9) +
        'p99'.padStart(9),
    );
    for (const [name, s] of rows)
      console.log(
        name.padEnd(40) +
          String(s.samples).padStart(7) +
          s.p50Ms.toFixed(3).padStart(9) +
          s.p95Ms.toFixed(3).padStart(9) +
          s.p99Ms.toFixed(3).padStart(9),
      );
    console.log(`\nlimiter adds at p50: ${(b.p50Ms - a.p50Ms).toFixed(3)} ms`);
  } finally {
    agent.destroy();
    bare.server.close();
    limited.server.close();
    pinged.server.close();
    limiter.close();
    await store.close();
    await services.release();
  }
}
