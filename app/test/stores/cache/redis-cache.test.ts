import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { RedisCache } from '../../../src/stores/cache/redis-cache';
import { cacheContract } from './cache.contract';
import { freePort } from '../../support/service-process';
import { startPrivateRedis, stopPrivateRedis as stop } from '../../support/private-redis';

const redisUrl = process.env.REDIS_URL;
if (!redisUrl) {
  throw new Error('REDIS_URL is not set: run via `npm test` or source scripts/test-services.sh up');
}

cacheContract('RedisCache', async () => {
  const cache = new RedisCache(redisUrl);
  await cache.waitUntilReady();
  return { cache, elapse: (ms) => sleep(ms), close: () => cache.close() };
});

describe('RedisCache during a Redis outage', function () {
  this.timeout(20_000);
  let proc: ChildProcess | undefined;
  let cache: RedisCache | undefined;

  afterEach(async () => {
    await cache?.close();
    if (proc) await stop(proc);
  });

  it('fails fast while Redis is down and recovers by itself when it comes back', async () => {
    const port = await freePort();
    proc = await startPrivateRedis(port);
    cache = new RedisCache(`redis://127.0.0.1:${port}`, {
      commandTimeoutMs: 200,
      maxReconnectDelayMs: 200,
    });
    await cache.waitUntilReady();
    await cache.set('k', 'before', 60);
    assert.equal(await cache.get('k'), 'before');

    await stop(proc);
    // Every call during the outage rejects, and quickly: callers treat it as a miss.
    for (const op of [
      () => cache!.get('k'),
      () => cache!.set('k', 'during', 60),
      () => cache!.getMany(['k', 'j']),
      () => cache!.setMany([['k', 'during']], 60),
      () => cache!.ping(),
    ]) {
      const started = performance.now();
      await assert.rejects(op());
      assert.ok(performance.now() - started < 1_000, 'a cache call during an outage took ≥ 1 s');
    }

    proc = await startPrivateRedis(port);
    await cache.waitUntilReady(5_000);
    // A fresh server has no data (no persistence): the cache is back, empty, and writable.
    assert.equal(await cache.get('k'), undefined);
    await cache.set('k', 'after', 60);
    assert.equal(await cache.get('k'), 'after');
  });

  it('rejects quickly when Redis was never reachable', async () => {
    const port = await freePort();
    const errors: Error[] = [];
    cache = new RedisCache(`redis://127.0.0.1:${port}`, {
      commandTimeoutMs: 200,
      onError: (e) => errors.push(e),
    });
    const started = performance.now();
    await assert.rejects(cache.get('k'));
    await assert.rejects(cache.waitUntilReady(300), /not ready/);
    assert.ok(performance.now() - started < 1_500);
    assert.match(String(errors[0]), /ECONNREFUSED/, 'connection errors reach onError');
  });
});
