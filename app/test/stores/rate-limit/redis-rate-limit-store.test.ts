import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { createClient } from 'redis';
import { RedisRateLimitStore } from '../../../src/stores/rate-limit/redis-rate-limit-store';
import { freePort } from '../../support/service-process';
import { startPrivateRedis, stopPrivateRedis } from '../../support/private-redis';
import { eventually } from '../../../../test-support/eventually';
import { rateLimitStoreContract } from './rate-limit-store.contract';

const redisUrl = process.env.REDIS_URL;
if (!redisUrl) {
  throw new Error('REDIS_URL is not set: run via `npm test` or source scripts/test-services.sh up');
}

async function openStore(url: string) {
  const store = new RedisRateLimitStore(url, { commandTimeoutMs: 2_000 });
  await store.waitUntilReady();
  return store;
}

rateLimitStoreContract('RedisRateLimitStore', async () => {
  const store = await openStore(redisUrl);
  return { store, close: () => store.close() };
});

describe('RedisRateLimitStore', function () {
  this.timeout(30_000);

  it('is exact across processes sharing one Redis (separate connections, one script)', async () => {
    const stores = await Promise.all([1, 2, 3].map(() => openStore(redisUrl)));
    try {
      const checks = [
        { key: `fleet-${Math.random()}`, policy: { name: 'p', rate: 0.001, burst: 9 } },
      ];
      const decisions = await Promise.all(
        Array.from({ length: 60 }, (_, i) => stores[i % 3].consume(checks, 1)),
      );
      assert.equal(decisions.filter((d) => d.allowed).length, 9);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  it('loads its script again after Redis lost it (NOSCRIPT → EVAL)', async () => {
    const store = await openStore(redisUrl);
    const admin = createClient({ url: redisUrl });
    await admin.connect();
    try {
      const checks = [
        { key: `flush-${Math.random()}`, policy: { name: 'p', rate: 0.001, burst: 3 } },
      ];
      assert.equal((await store.consume(checks, 1)).allowed, true);
      await admin.sendCommand(['SCRIPT', 'FLUSH']);
      const after = await store.consume(checks, 1);
      assert.equal(after.allowed, true);
      assert.equal(after.states[0].remaining, 1, 'the quota survived the script cache flush');
    } finally {
      await admin.close();
      await store.close();
    }
  });

  it('refills over Redis time and lets keys expire once whole', async () => {
    const store = await openStore(redisUrl);
    const admin = createClient({ url: redisUrl });
    await admin.connect();
    try {
      const key = `refill-${Math.random()}`;
      const checks = [{ key, policy: { name: 'p', rate: 20, burst: 1 } }];
      assert.equal((await store.consume(checks, 1)).allowed, true);
      const ttl = await admin.pTTL(`rl:${key}`);
      assert.ok(ttl > 0 && ttl <= 50, `the key lives until its quota is whole (pttl ${ttl})`);
      await eventually(async () => (await store.consume(checks, 1)).allowed, {
        what: 'a unit refilled',
      });
    } finally {
      await admin.close();
      await store.close();
    }
  });

  it('rejects at once while Redis is down (the caller falls back)', async () => {
    const port = await freePort();
    let proc: ChildProcess | undefined = await startPrivateRedis(port);
    const store = await openStore(`redis://127.0.0.1:${port}`);
    try {
      await stopPrivateRedis(proc);
      proc = undefined;
      const checks = [{ key: 'down', policy: { name: 'p', rate: 1, burst: 1 } }];
      await eventually(
        async () => {
          await assert.rejects(store.consume(checks, 1));
          return true;
        },
        { what: 'a decision rejected' },
      );
    } finally {
      await store.close();
      if (proc) await stopPrivateRedis(proc);
    }
  });
});
