import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient } from 'redis';
import { RedisCache, reconnectDelayMs } from '../../../src/stores/cache/redis-cache';
import { cacheContract } from './cache.contract';
import { freePort } from '../../support/service-process';
import { startPrivateRedis, stopPrivateRedis as stop } from '../../support/private-redis';
import { eventually } from '../../../../test-support/eventually';

const redisUrl = process.env.REDIS_URL;
if (!redisUrl) {
  throw new Error('REDIS_URL is not set: run via `npm test` or source scripts/test-services.sh up');
}

cacheContract('RedisCache', async () => {
  const cache = new RedisCache(redisUrl);
  await cache.waitUntilReady();
  return { cache, elapse: (ms) => sleep(ms), close: () => cache.close() };
});

cacheContract('RedisCache with client-side caching', async () => {
  const cache = new RedisCache(redisUrl, { clientSideCacheEntries: 100 });
  await cache.waitUntilReady();
  return { cache, elapse: (ms) => sleep(ms), close: () => cache.close() };
});

describe('RedisCache with client-side caching (CLIENT TRACKING)', function () {
  this.timeout(20_000);
  let proc: ChildProcess | undefined;
  let cache: RedisCache | undefined;
  let other: ReturnType<typeof createClient> | undefined;

  afterEach(async () => {
    await cache?.close();
    if (other?.isOpen) await other.close().catch(() => undefined);
    if (proc) await stop(proc);
    proc = cache = other = undefined;
  });

  async function start() {
    const port = await freePort();
    proc = await startPrivateRedis(port);
    const url = `redis://127.0.0.1:${port}`;
    cache = new RedisCache(url, { clientSideCacheEntries: 100, maxReconnectDelayMs: 100 });
    await cache.waitUntilReady();
    // Another instance of the service: its writes must reach this one's local copies.
    other = createClient({ url });
    await other.connect();
    return { cache, other, port };
  }

  /** GETs the server has answered so far (INFO commandstats). */
  async function serverGets(client: ReturnType<typeof createClient>): Promise<number> {
    const stats = await client.info('commandstats');
    return Number(/^cmdstat_get:calls=(\d+)/m.exec(stats)?.[1] ?? 0);
  }

  it('answers a repeated GET without asking Redis', async () => {
    const { cache, other } = await start();
    await cache.set('answer', 'forty-two', 60);
    assert.equal(await cache.get('answer'), 'forty-two');
    const before = await serverGets(other);
    for (let i = 0; i < 5; i++) assert.equal(await cache.get('answer'), 'forty-two');
    assert.equal(await serverGets(other), before, 'a repeated GET reached the server');
    assert.equal(cache.localCopies, 1);
  });

  it('peeks only at a local copy: none before a GET, none once another instance overwrote it', async () => {
    const { cache, other } = await start();
    await cache.set('p', 'one', 60);
    assert.equal(cache.peek('p'), undefined, 'a SET keeps no copy: only a GET does');
    assert.equal(await cache.get('p'), 'one');
    assert.equal(cache.peek('p'), 'one');
    await other.set('p', 'two', { expiration: { type: 'EX', value: 60 } });
    await eventually(() => cache.peek('p') === undefined, {
      what: 'the overwrite to drop the copy peek sees',
    });
    assert.equal(await cache.get('p'), 'two');
  });

  it('never keeps a miss: a key another instance writes later is read from Redis', async () => {
    const { cache, other } = await start();
    assert.equal(await cache.get('later'), undefined);
    await other.set('later', 'now', { expiration: { type: 'EX', value: 60 } });
    assert.equal(await cache.get('later'), 'now');
  });

  it('drops its copy when another instance overwrites or deletes the key', async () => {
    const { cache, other } = await start();
    await cache.set('k', 'one', 60);
    assert.equal(await cache.get('k'), 'one');
    await other.set('k', 'two', { expiration: { type: 'EX', value: 60 } });
    await eventually(async () => (await cache.get('k')) === 'two', {
      what: 'the overwrite to reach the local copy',
    });
    await other.del('k');
    await eventually(async () => (await cache.get('k')) === undefined, {
      what: 'the delete to reach the local copy',
    });
  });

  it('drops every copy when Redis evicts keys or is flushed', async () => {
    const { cache, other } = await start();
    await cache.set('a', 'x', 60);
    await cache.set('b', 'y', 60);
    assert.equal(await cache.get('a'), 'x');
    assert.equal(await cache.get('b'), 'y');
    // Eviction: what the CacheHitRatioCollapse drill does (maxmemory far below the data).
    const used = Number(/^used_memory:(\d+)/m.exec(await other.info('memory'))?.[1]);
    await other.configSet({
      'maxmemory-policy': 'allkeys-lru',
      maxmemory: String(used + 64 * 1024),
    });
    await Promise.all(
      Array.from({ length: 500 }, (_, i) => other.set(`filler-${i}`, 'z'.repeat(1024))),
    );
    await eventually(async () => (await cache.get('a')) === undefined, {
      what: 'the eviction of a to reach the local copy',
    });
    await other.configSet({ maxmemory: '0' });
    await cache.set('d', 'w', 60);
    assert.equal(await cache.get('d'), 'w');
    await other.flushAll();
    await eventually(async () => (await cache.get('d')) === undefined, {
      what: 'the flush to reach the local copy',
    });
  });

  it('keeps a copy no longer than the key lives in Redis', async () => {
    const { cache } = await start();
    await cache.set('short', 'v', 1);
    assert.equal(await cache.get('short'), 'v');
    assert.equal(cache.localCopies, 1);
    // Redis reports an expiry only once it deletes the key, which an untouched key may wait for:
    // the copy's own deadline (the key's PTTL when read) ends it regardless.
    await eventually(async () => (await cache.get('short')) === undefined, {
      timeoutMs: 5_000,
      what: 'the copy to expire with the key',
    });
  });

  it('goes on without local copies when the server refuses CLIENT TRACKING', async () => {
    const { other, port } = await start();
    await cache!.close();
    // A managed Redis may restrict the command; an ACL refuses it here the same way (NOPERM).
    await other.sendCommand([
      'ACL',
      'SETUSER',
      'app',
      'on',
      '>pw',
      '~*',
      '+@all',
      '-client|tracking',
    ]);
    const errors: Error[] = [];
    cache = new RedisCache(`redis://app:pw@127.0.0.1:${port}`, {
      clientSideCacheEntries: 100,
      onError: (err) => errors.push(err),
    });
    await cache.waitUntilReady(5_000);
    await cache.set('k', 'v', 60);
    assert.equal(await cache.get('k'), 'v');
    assert.equal(await cache.get('k'), 'v');
    assert.equal(cache.localCopies, 0);
    assert.match(String(errors[0]), /refuses client-side caching/);
  });

  it('forgets every copy in an outage and serves nothing from before it afterwards', async () => {
    const { cache, other, port } = await start();
    await other.close();
    await cache.set('k', 'before', 60);
    assert.equal(await cache.get('k'), 'before');
    await stop(proc!);
    await eventually(() => cache.status !== 'ready', { what: 'the cache to notice the outage' });
    assert.equal(cache.localCopies, 0);
    assert.equal(cache.peek('k'), undefined);
    await assert.rejects(cache.get('k'));
    // A fresh server holds nothing (no persistence): the old copy must not answer for it.
    proc = await startPrivateRedis(port);
    await cache.waitUntilReady(10_000);
    assert.equal(await cache.get('k'), undefined);
  });
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

  it('never queues a command while disconnected: it rejects, even with a long command timeout', async () => {
    const port = await freePort();
    proc = await startPrivateRedis(port);
    // A timeout longer than mocha's: only the offline fail-fast can end these calls in time.
    cache = new RedisCache(`redis://127.0.0.1:${port}`, {
      commandTimeoutMs: 120_000,
      maxReconnectDelayMs: 200,
    });
    await cache.waitUntilReady();
    await stop(proc);
    await eventually(() => cache!.status !== 'ready', { what: 'the cache to notice the outage' });
    await assert.rejects(cache.set('queued', 'during', 60), /offline/i);
    await assert.rejects(cache.getMany(['queued']), /offline/i);
    await assert.rejects(cache.setMany([['queued', 'during']], 60), /offline/i);

    proc = await startPrivateRedis(port);
    await cache.waitUntilReady(10_000);
    assert.equal(await cache.get('queued'), undefined, 'a write from the outage was replayed');
  });

  it('bounds a command to a Redis that accepts it and never answers by the command timeout', async () => {
    const port = await freePort();
    proc = await startPrivateRedis(port);
    cache = new RedisCache(`redis://127.0.0.1:${port}`, { commandTimeoutMs: 200 });
    await cache.waitUntilReady();
    // A frozen server keeps the connection open: only the command timeout can end the call.
    proc.kill('SIGSTOP');
    try {
      await assert.rejects(cache.get('k'), /timeout/i);
      await assert.rejects(cache.setMany([['k', 'v']], 60), /timeout/i);
    } finally {
      proc.kill('SIGCONT');
    }
    await cache.waitUntilReady(5_000);
    await cache.set('k', 'after', 60);
    assert.equal(await cache.get('k'), 'after');
  });

  it('survives a dropped connection without an onError listener, and reconnects', async () => {
    const port = await freePort();
    proc = await startPrivateRedis(port);
    const uncaught: Error[] = [];
    const onUncaught = (err: Error) => uncaught.push(err);
    process.on('uncaughtException', onUncaught);
    try {
      cache = new RedisCache(`redis://127.0.0.1:${port}`, { maxReconnectDelayMs: 50 });
      await cache.waitUntilReady();
      // node-redis emits 'error' for the dropped socket and for every failed reconnect.
      await stop(proc);
      await eventually(() => cache!.status !== 'ready', { what: 'the cache to notice the outage' });
      for (let i = 0; i < 3; i++) await assert.rejects(cache.waitUntilReady(100));
      proc = await startPrivateRedis(port);
      await cache.waitUntilReady(10_000);
    } finally {
      process.off('uncaughtException', onUncaught);
    }
    assert.deepEqual(uncaught, []);
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

describe('RedisCache reconnect backoff', () => {
  it('doubles from 50 ms up to the cap and never gives up', () => {
    assert.deepEqual(
      [0, 1, 2, 3, 4, 5, 6].map((r) => reconnectDelayMs(r, 2_000)),
      [50, 100, 200, 400, 800, 1_600, 2_000],
    );
    assert.equal(reconnectDelayMs(1_000_000, 2_000), 2_000);
    assert.equal(reconnectDelayMs(3, 200), 200);
  });
});
