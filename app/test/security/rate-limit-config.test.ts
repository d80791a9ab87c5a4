import assert from 'node:assert/strict';
import { ConfigError, loadConfig, rateLimitingEnabled } from '../../src/config';
import { advertisedPolicy } from '../../src/security/rate-limit-rules';
import { operationClass } from '../../src/security/rate-limit-rules';

const problemsOf = (env: Record<string, string>): string[] => {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
};

describe('rate-limit settings', () => {
  it('are on in production by default, off elsewhere unless enabled', () => {
    assert.equal(rateLimitingEnabled(loadConfig({ NODE_ENV: 'production' })), true);
    assert.equal(rateLimitingEnabled(loadConfig({})), false);
    assert.equal(rateLimitingEnabled(loadConfig({ RATE_LIMIT_ENABLED: 'true' })), true);
    assert.equal(
      rateLimitingEnabled(loadConfig({ NODE_ENV: 'production', RATE_LIMIT_ENABLED: 'false' })),
      false,
    );
  });

  it('read tiers and costs from JSON, costs merged over the defaults', () => {
    const config = loadConfig({
      RATE_LIMIT_TIERS:
        '{"default":{"rate":5,"burst":50},"gold":{"rate":0.5,"burst":20},"ip":{"rate":10,"burst":60}}',
      RATE_LIMIT_COSTS: '{"ingest":20}',
    });
    assert.deepEqual(config.RATE_LIMIT_TIERS.gold, { rate: 0.5, burst: 20 });
    assert.deepEqual(config.RATE_LIMIT_COSTS, { read: 1, write: 2, query: 5, ingest: 20 });
  });

  it('refuse malformed or inconsistent tiers, costs and lists, naming each', () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ RATE_LIMIT_TIERS: '{default:' }, /^RATE_LIMIT_TIERS: is not valid JSON/],
      [{ RATE_LIMIT_TIERS: '{"ip":{"rate":1,"burst":10}}' }, /^RATE_LIMIT_TIERS: .*"default"/],
      [
        { RATE_LIMIT_TIERS: '{"default":{"rate":0,"burst":10},"ip":{"rate":1,"burst":10}}' },
        /^RATE_LIMIT_TIERS\.default\.rate/,
      ],
      [
        {
          RATE_LIMIT_TIERS:
            '{"default":{"rate":1,"burst":10,"per":"minute"},"ip":{"rate":1,"burst":10}}',
        },
        /^RATE_LIMIT_TIERS\.default/,
      ],
      [
        {
          RATE_LIMIT_TIERS:
            '{"a b":{"rate":1,"burst":10},"default":{"rate":1,"burst":10},"ip":{"rate":1,"burst":10}}',
        },
        /^RATE_LIMIT_TIERS/,
      ],
      [{ RATE_LIMIT_IP_TIER: 'nope' }, /^RATE_LIMIT_IP_TIER: names no tier/],
      [
        { RATE_LIMIT_TIERS: '{"default":{"rate":1,"burst":5},"ip":{"rate":1,"burst":50}}' },
        /^RATE_LIMIT_TIERS\.default\.burst: must be at least .*\(10\)/,
      ],
      [{ RATE_LIMIT_COSTS: '{"upload":3}' }, /^RATE_LIMIT_COSTS/],
      [{ RATE_LIMIT_COSTS: '{"read":0}' }, /^RATE_LIMIT_COSTS\.read/],
      [{ RATE_LIMIT_DENY_CIDRS: '10.0.0.0/33' }, /^RATE_LIMIT_DENY_CIDRS/],
      [{ RATE_LIMIT_ALLOW_CIDRS: 'example.com' }, /^RATE_LIMIT_ALLOW_CIDRS/],
      [{ HTTP_TRUST_PROXY: 'true' }, /^HTTP_TRUST_PROXY: true is not/],
      [{ RATE_LIMIT_EXPECTED_REPLICAS: '0' }, /^RATE_LIMIT_EXPECTED_REPLICAS/],
    ];
    for (const [env, expected] of cases) {
      const problems = problemsOf(env);
      assert.ok(
        problems.some((p) => expected.test(p)),
        `${JSON.stringify(env)} → ${JSON.stringify(problems)}`,
      );
    }
  });

  it('read HTTP_TRUST_PROXY as false, a hop count or proxy addresses', () => {
    assert.equal(loadConfig({}).HTTP_TRUST_PROXY, false);
    assert.equal(loadConfig({ HTTP_TRUST_PROXY: 'false' }).HTTP_TRUST_PROXY, false);
    assert.equal(loadConfig({ HTTP_TRUST_PROXY: '1' }).HTTP_TRUST_PROXY, 1);
    assert.deepEqual(
      loadConfig({ HTTP_TRUST_PROXY: '10.0.0.0/24, 10.0.1.0/24,fd00::/8' }).HTTP_TRUST_PROXY,
      ['10.0.0.0/24', '10.0.1.0/24', 'fd00::/8'],
    );
  });
});

describe('rate-limit rules', () => {
  it('advertise a tier as its burst over the seconds the burst takes to refill', () => {
    assert.equal(
      advertisedPolicy('default', { rate: 20, burst: 100 }).header,
      '"default";q=100;w=5',
    );
    assert.equal(advertisedPolicy('fast', { rate: 1000, burst: 10 }).header, '"fast";q=10;w=1');
  });

  it('classify operations the way Express routes them', () => {
    assert.equal(operationClass('GET', '/v1/collections/a/documents'), 'read');
    assert.equal(operationClass('POST', '/v1/query'), 'query');
    assert.equal(operationClass('POST', '/V1/Query/'), 'query');
    assert.equal(operationClass('POST', '/v1/collections/a/documents'), 'ingest');
    assert.equal(operationClass('POST', '/v1/collections/a/documents/d/retry'), 'ingest');
    assert.equal(operationClass('POST', '/v1/collections'), 'write');
    assert.equal(operationClass('DELETE', '/v1/collections/a'), 'write');
  });
});
