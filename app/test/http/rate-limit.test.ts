import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { PassThrough } from 'node:stream';
import type { RunningService } from '../../src/service';
import { apiClient, type ApiResponse } from '../support/http-client';
import { startPrivateRedis, stopPrivateRedis } from '../support/private-redis';
import { freePort } from '../support/service-process';
import { eventually, startTestService, uniqueName } from '../support/test-service';

// The rate limiter in the running service, against the run's real Redis: unauthenticated /v1
// traffic (sent without a credential on purpose: it is refused with 401 only after the limiter has
// charged the client address, so credential guessing is limited too) is held to the per-address tier (authenticated traffic also to its principal's tier:
// test/security/rate-limit-middleware.test.ts). Every test speaks as its own client address
// (X-Forwarded-For from a trusted hop), so tests never share a quota.

const randomOctet = () => Math.floor(Math.random() * 254) + 1;
const freshClient = () => `10.${randomOctet()}.${randomOctet()}.${randomOctet()}`;

function metricValue(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : NaN;
}

describe('rate limiting in the running service', function () {
  this.timeout(60_000);
  const burst = 15;
  const ipTier = uniqueName('ip').replace(/[^A-Za-z0-9_.-]/g, '');
  let service: RunningService;
  let api: ReturnType<typeof apiClient>;
  const as = (client: string, method = 'GET', path = '/v1/collections', body?: unknown) =>
    api.request(method, path, body, { headers: { 'x-forwarded-for': client } });

  before(async () => {
    service = await startTestService({
      RATE_LIMIT_ENABLED: 'true',
      // Nothing refills during a test: what is admitted is exactly the burst.
      RATE_LIMIT_TIERS: JSON.stringify({
        default: { rate: 0.001, burst: 20 },
        [ipTier]: { rate: 0.001, burst },
      }),
      RATE_LIMIT_IP_TIER: ipTier,
      RATE_LIMIT_DENY_CIDRS: '198.51.100.0/24',
      RATE_LIMIT_ALLOW_CIDRS: '192.0.2.0/24,2001:db8::/32',
      // One proxy hop in front (the ALB): the test client plays it.
      HTTP_TRUST_PROXY: '1',
    });
    api = apiClient(service.url, { apiKey: null });
  });
  after(() => service?.close());

  it(`admits exactly ${burst} of 40 concurrent requests; the rest get 429 problems`, async () => {
    const client = freshClient();
    const responses = await Promise.all(Array.from({ length: 40 }, () => as(client)));
    const admitted = responses.filter((r) => r.status === 401);
    const limited = responses.filter((r) => r.status === 429);
    assert.equal(admitted.length, burst, responses.map((r) => r.status).join(' '));
    assert.equal(limited.length, 40 - burst);

    // Each admitted request saw its own remaining quota: none was counted twice or skipped.
    const remaining = admitted.map((r) => {
      assert.equal(r.headers.get('ratelimit-policy'), `"${ipTier}";q=${burst};w=${burst * 1000}`);
      const m = /^"([^"]+)";r=(\d+);t=(\d+)$/.exec(r.headers.get('ratelimit') ?? '');
      assert.ok(m, `RateLimit: ${r.headers.get('ratelimit')}`);
      assert.equal(m[1], ipTier);
      return Number(m[2]);
    });
    assert.deepEqual(
      remaining.sort((a, b) => a - b),
      Array.from({ length: burst }, (_, i) => i),
    );

    for (const r of limited) {
      assert.match(r.headers.get('content-type') ?? '', /^application\/problem\+json/);
      assert.equal(r.body.type, 'urn:rag-platform:problem:rate-limited');
      assert.equal(r.body.status, 429);
      assert.deepEqual(r.body['violated-policies'], [ipTier]);
      const retryAfter = r.headers.get('retry-after');
      assert.match(retryAfter ?? '', /^[1-9]\d*$/);
      assert.equal(r.headers.get('ratelimit'), `"${ipTier}";r=0;t=${retryAfter}`);
      assert.equal(r.headers.get('ratelimit-policy'), `"${ipTier}";q=${burst};w=${burst * 1000}`);
    }
  });

  it('charges ingests and generated answers more than reads', async () => {
    const client = freshClient();
    const remainingAfter = (r: ApiResponse) => {
      assert.notEqual(r.status, 429, r.text);
      return Number(/;r=(\d+);/.exec(r.headers.get('ratelimit') ?? '')?.[1]);
    };
    // Validation runs after the limiter: a bad body still spends its operation's cost.
    assert.equal(remainingAfter(await as(client, 'GET')), burst - 1);
    assert.equal(remainingAfter(await as(client, 'POST', '/v1/query', {})), burst - 1 - 5);
    const collection = uniqueName('costs');
    assert.equal(
      remainingAfter(await as(client, 'POST', '/v1/collections', { id: collection })),
      burst - 1 - 5 - 2,
    );
    const ingest = await as(client, 'POST', `/v1/collections/${collection}/documents`, {
      content: 'a',
    });
    assert.equal(ingest.status, 429, 'an ingest costs 10 and only 7 units are left');
    assert.equal(ingest.headers.get('ratelimit'), `"${ipTier}";r=7;t=${3 * 1000}`);
  });

  it('keys the limit on the address the trusted proxy saw, not one the client sent', async () => {
    const real = freshClient();
    // The ALB appends the address it saw to whatever the client claimed.
    const spoofing = () => as(`${freshClient()}, ${real}`);
    for (let i = 0; i < burst; i++) assert.equal((await spoofing()).status, 401);
    assert.equal((await spoofing()).status, 429, 'a fresh spoofed address did not help');
    assert.equal((await as(real)).status, 429);
  });

  it('refuses denied addresses with 403 and never limits allowed ones', async () => {
    const denied = await as('198.51.100.7');
    assert.equal(denied.status, 403);
    assert.equal(denied.body.type, 'urn:rag-platform:problem:forbidden');
    assert.equal(denied.headers.get('ratelimit'), null);
    for (const allowed of ['192.0.2.5', '2001:db8::5']) {
      const responses = await Promise.all(Array.from({ length: burst + 5 }, () => as(allowed)));
      assert.deepEqual([...new Set(responses.map((r) => r.status))], [401]);
      assert.equal(responses[0].headers.get('ratelimit'), null);
    }
  });

  it('limits /v1 however it is spelled, and leaves health, metrics and docs alone', async () => {
    const client = freshClient();
    await Promise.all(Array.from({ length: burst }, () => as(client)));
    assert.equal((await as(client, 'GET', '/V1/Collections/')).status, 429);
    for (const path of ['/healthz', '/readyz', '/openapi.json', '/metrics']) {
      const r = await as(client, 'GET', path);
      assert.equal(r.status, 200, path);
      assert.equal(r.headers.get('ratelimit'), null, path);
    }
    const metrics = (await api.get('/metrics')).text;
    assert.ok(
      metricValue(metrics, 'rag_rate_limit_decisions_total{decision="limited",store="redis"}') >= 1,
    );
    assert.ok(
      metricValue(metrics, 'rag_rate_limit_decisions_total{decision="allowed",store="redis"}') >=
        burst,
    );
    assert.equal(metricValue(metrics, 'rag_rate_limit_fallback'), 0);
  });

  it('documents 429 on every operation', async () => {
    const doc = (await api.get('/openapi.json')).body;
    for (const [path, item] of Object.entries<Record<string, { responses: object }>>(doc.paths))
      for (const [method, op] of Object.entries(item))
        assert.ok('429' in op.responses, `${method.toUpperCase()} ${path}`);
  });
});

describe('rate limiting without a trusted proxy', function () {
  this.timeout(60_000);
  let service: RunningService | undefined;
  after(() => service?.close());

  it('ignores X-Forwarded-For entirely: the socket peer is the client', async () => {
    const ipTier = uniqueName('direct').replace(/[^A-Za-z0-9_.-]/g, '');
    service = await startTestService({
      RATE_LIMIT_ENABLED: 'true',
      RATE_LIMIT_TIERS: JSON.stringify({
        default: { rate: 0.001, burst: 20 },
        [ipTier]: { rate: 0.001, burst: 10 },
      }),
      RATE_LIMIT_IP_TIER: ipTier,
      // A proxy range this client is not in: its header is not trusted.
      HTTP_TRUST_PROXY: '10.0.0.0/8',
    });
    const api = apiClient(service.url, { apiKey: null });
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) {
      const r = await api.request('GET', '/v1/collections', undefined, {
        headers: { 'x-forwarded-for': freshClient() },
      });
      statuses.push(r.status);
    }
    assert.deepEqual(statuses, [...Array(10).fill(401), 429, 429]);
  });
});

describe('rate limiting with Redis down', function () {
  this.timeout(90_000);
  let redis: ChildProcess | undefined;
  let service: RunningService | undefined;
  after(async () => {
    await service?.close();
    if (redis) await stopPrivateRedis(redis);
  });

  it("falls back to this process's share of each quota, shows it, and recovers", async () => {
    const port = await freePort();
    redis = await startPrivateRedis(port);
    const logs: Record<string, unknown>[] = [];
    const stream = new PassThrough();
    stream.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n'))
        if (line.trim()) logs.push(JSON.parse(line) as Record<string, unknown>);
    });
    service = await startTestService(
      {
        REDIS_URL: `redis://127.0.0.1:${port}`,
        LOG_LEVEL: 'info',
        RATE_LIMIT_ENABLED: 'true',
        RATE_LIMIT_TIERS: JSON.stringify({
          default: { rate: 0.001, burst: 12 },
          ip: { rate: 0.001, burst: 12 },
        }),
        RATE_LIMIT_COSTS: JSON.stringify({ write: 2, query: 4, ingest: 4 }),
        // Three replicas expected: each enforces a third of every quota alone.
        RATE_LIMIT_EXPECTED_REPLICAS: '3',
        HTTP_TRUST_PROXY: '1',
      },
      { logDestination: stream },
    );
    const api = apiClient(service.url, { apiKey: null });
    const burstOf = async (client: string) => {
      const responses = await Promise.all(
        Array.from({ length: 20 }, () =>
          api.request('GET', '/v1/collections', undefined, {
            headers: { 'x-forwarded-for': client },
          }),
        ),
      );
      return responses.filter((r) => r.status === 401).length;
    };
    const fallbackLogs = () =>
      logs.filter((l) => String(l.message).startsWith('rate limiting falls back')).length;
    const recoveryLogs = () =>
      logs.filter((l) => String(l.message).startsWith('rate limiting is back')).length;
    const fallbackGauge = async () =>
      metricValue((await api.get('/metrics')).text, 'rag_rate_limit_fallback');

    assert.equal(await burstOf(freshClient()), 12, 'with Redis: the whole quota');

    await stopPrivateRedis(redis);
    redis = undefined;
    assert.equal(await burstOf(freshClient()), 4, 'without: a third of it (neither all nor none)');
    assert.equal(await burstOf(freshClient()), 4);
    assert.equal(await fallbackGauge(), 1);
    const metrics = (await api.get('/metrics')).text;
    assert.equal(
      metricValue(metrics, 'rag_rate_limit_decisions_total{decision="allowed",store="local"}'),
      8,
    );
    assert.equal(fallbackLogs(), 1, 'the switch is logged once, not per request');

    redis = await startPrivateRedis(port);
    await eventually(async () => (await fallbackGauge()) === 0, {
      timeoutMs: 30_000,
      what: 'rate limiting back on redis',
    });
    assert.equal(recoveryLogs(), 1);
    assert.equal(await burstOf(freshClient()), 12, 'shared limits again');
    assert.equal(fallbackLogs(), 1);
  });
});
