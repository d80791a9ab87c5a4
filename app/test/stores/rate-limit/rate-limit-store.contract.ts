import assert from 'node:assert/strict';
import type { RateLimitPolicy, RateLimitStore } from '../../../src/domain/rate-limit';

/** What every rate-limit store guarantees, whatever counts its quotas (Redis, this process). */
export function rateLimitStoreContract(
  name: string,
  open: () => Promise<{ store: RateLimitStore; close: () => Promise<void> }>,
) {
  describe(`${name} (rate-limit store contract)`, function () {
    this.timeout(20_000);
    let store: RateLimitStore;
    let close: () => Promise<void>;
    beforeEach(async () => ({ store, close } = await open()));
    afterEach(() => close());

    // A rate so slow nothing refills during a test: only the burst counts.
    const policy = (burst: number, label = 'p'): RateLimitPolicy => ({
      name: label,
      rate: 0.001,
      burst,
    });
    const key = (label: string) => `${label}-${process.pid}-${Math.random().toString(36).slice(2)}`;

    it('admits exactly the burst out of many concurrent requests', async () => {
      const checks = [{ key: key('burst'), policy: policy(7) }];
      const decisions = await Promise.all(
        Array.from({ length: 40 }, () => store.consume(checks, 1)),
      );
      assert.equal(decisions.filter((d) => d.allowed).length, 7);
      const refused = decisions.find((d) => !d.allowed)!;
      assert.equal(refused.states[0].remaining, 0);
      assert.ok(refused.states[0].retryAfterMs > 0, 'a refusal says when to retry');
    });

    it('spends the cost in units and reports what is left', async () => {
      const checks = [{ key: key('cost'), policy: policy(10) }];
      const first = await store.consume(checks, 4);
      assert.equal(first.allowed, true);
      assert.equal(first.states[0].remaining, 6);
      assert.equal(first.states[0].retryAfterMs, 0);
      assert.ok(first.states[0].resetMs > 0);
      assert.equal((await store.consume(checks, 4)).allowed, true);
      const third = await store.consume(checks, 4);
      assert.equal(third.allowed, false, 'only 2 units are left for a cost of 4');
      assert.equal(third.states[0].remaining, 2);
      assert.equal((await store.consume(checks, 2)).allowed, true, 'a cheaper request still fits');
    });

    it('spends every quota or none: a refusal by one leaves the others untouched', async () => {
      const small = { key: key('small'), policy: policy(2, 'small') };
      const large = { key: key('large'), policy: policy(10, 'large') };
      assert.equal((await store.consume([small, large], 2)).allowed, true);
      const refused = await store.consume([small, large], 1);
      assert.equal(refused.allowed, false);
      assert.equal(refused.states[1].retryAfterMs, 0, 'the large quota did not refuse');
      const alone = await store.consume([large], 1);
      assert.equal(alone.states[0].remaining, 7, 'the refused request spent nothing of it');
    });

    it('keeps partitions apart', async () => {
      const a = [{ key: key('a'), policy: policy(1) }];
      const b = [{ key: key('b'), policy: policy(1) }];
      assert.equal((await store.consume(a, 1)).allowed, true);
      assert.equal((await store.consume(a, 1)).allowed, false);
      assert.equal((await store.consume(b, 1)).allowed, true);
    });
  });
}
