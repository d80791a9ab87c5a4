import assert from 'node:assert/strict';
import { LocalRateLimitStore } from '../../../src/stores/rate-limit/local-rate-limit-store';
import { rateLimitStoreContract } from './rate-limit-store.contract';

rateLimitStoreContract('LocalRateLimitStore', async () => ({
  store: new LocalRateLimitStore(),
  close: async () => undefined,
}));

describe('LocalRateLimitStore', () => {
  const policy = { name: 'p', rate: 2, burst: 4 };

  it('refills at the policy rate', () => {
    let now = 1_000_000_000;
    const store = new LocalRateLimitStore({ nowUs: () => now });
    const checks = [{ key: 'k', policy }];
    for (let i = 0; i < 4; i++) assert.equal(store.consumeNow(checks, 1).allowed, true);
    const refused = store.consumeNow(checks, 1);
    assert.equal(refused.allowed, false);
    assert.equal(refused.states[0].retryAfterMs, 500, 'one unit refills every 500 ms at 2/s');
    now += 499_000;
    assert.equal(store.consumeNow(checks, 1).allowed, false);
    now += 1_000;
    assert.equal(store.consumeNow(checks, 1).allowed, true);
  });

  it('admits a request that exactly fits the burst, whatever the clock reads', () => {
    // A fractional clock made now + 2e9 - 2e9 land a rounding error above now: a refusal.
    const store = new LocalRateLimitStore({ nowUs: () => 123_456_789.7 });
    const checks = [{ key: 'k', policy: { name: 'p', rate: 0.001, burst: 2 } }];
    assert.equal(store.consumeNow(checks, 2).allowed, true);
  });

  it("enforces its share of a policy: the fleet's limit over the expected replicas", () => {
    const now = 1_000_000_000;
    const store = new LocalRateLimitStore({ share: 1 / 4, nowUs: () => now });
    const checks = [{ key: 'k', policy: { name: 'p', rate: 1, burst: 20 } }];
    let admitted = 0;
    while (store.consumeNow(checks, 1).allowed) admitted++;
    assert.equal(admitted, 5);
  });

  it('keeps a shared burst large enough for the dearest operation', () => {
    const store = new LocalRateLimitStore({ share: 1 / 10, minBurst: 6, nowUs: () => 1 });
    const checks = [{ key: 'k', policy: { name: 'p', rate: 1, burst: 20 } }];
    assert.equal(store.consumeNow(checks, 6).allowed, true);
  });

  it('bounds the keys it holds', () => {
    const now = 1_000_000_000;
    const store = new LocalRateLimitStore({ maxKeys: 100, nowUs: () => now });
    for (let i = 0; i < 1_000; i++) store.consumeNow([{ key: `k${i}`, policy }], 1);
    const held = (store as unknown as { tats: Map<string, number> }).tats.size;
    assert.ok(held <= 101, `${held} keys held`);
  });
});
