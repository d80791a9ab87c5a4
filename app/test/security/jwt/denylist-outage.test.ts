import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { DependencyUnavailableError } from '../../../src/domain/errors';
import { InvalidTokenError } from '../../../src/security/jwt/access-tokens';
import { ephemeralKeys, type SigningKeySource } from '../../../src/security/jwt/key-directory';
import { RedisTokenDenylist } from '../../../src/stores/tokens/redis-token-denylist';
import { startPrivateRedis, stopPrivateRedis } from '../../support/private-redis';
import { freePort } from '../../support/service-process';
import { eventually } from '../../../../test-support/eventually';
import {
  apiKeyPrincipal,
  startTokenDatabase,
  startTokenHarness,
  tokenStack,
  type TokenDatabase,
} from './jwt-fixtures';

// The denylist fails closed: with Redis down no access token is accepted (503, retryable), since
// any of them might have been revoked; API keys do not depend on it. Shown with a real Redis stopped.

describe('token denylist with Redis down', function () {
  this.timeout(60_000);
  let db: TokenDatabase;
  let keys: SigningKeySource;
  let redis: ChildProcess | undefined;
  let denylist: RedisTokenDenylist | undefined;
  let harness: { url: string; close(): Promise<void> } | undefined;

  before(async () => {
    db = await startTokenDatabase('jwt_outage');
    keys = await ephemeralKeys();
  });
  after(async () => {
    await harness?.close();
    await denylist?.close();
    if (redis) await stopPrivateRedis(redis);
    await db?.close();
  });

  it('refuses every access token with a 503 while Redis is down, and accepts them again once it is back', async () => {
    const port = await freePort();
    redis = await startPrivateRedis(port);
    denylist = new RedisTokenDenylist(`redis://127.0.0.1:${port}`, {
      commandTimeoutMs: 200,
      maxReconnectDelayMs: 200,
    });
    await denylist.waitUntilReady(5_000);
    const stack = tokenStack({ keys, denylist, db });
    harness = await startTokenHarness(stack, keys);
    const pair = await stack.sessions.issue(apiKeyPrincipal(stack.principals.add('alice')));
    const whoami = () =>
      fetch(`${harness!.url}/v1/whoami`, {
        headers: { authorization: `Bearer ${pair.accessToken}` },
      });
    assert.equal((await whoami()).status, 200);

    const reusable = await stack.sessions.issue(apiKeyPrincipal(stack.principals.get('alice')));
    const successor = await stack.sessions.refresh(reusable.refreshToken);

    await stopPrivateRedis(redis);
    // Reuse while the denylist is down: the family is still revoked and the event still recorded,
    // and the caller learns the service is degraded rather than that the token was fine.
    await assert.rejects(
      stack.sessions.refresh(reusable.refreshToken),
      (err: unknown) => err instanceof DependencyUnavailableError,
    );
    assert.equal(stack.audit.ofType('token.reuse_detected').length, 1);
    await assert.rejects(stack.sessions.refresh(successor.refreshToken), InvalidTokenError);
    await assert.rejects(
      stack.verifier.verify(pair.accessToken),
      (err: unknown) => err instanceof DependencyUnavailableError && err.dependency === 'redis',
    );
    const down = await whoami();
    assert.equal(down.status, 503);
    assert.equal(down.headers.get('content-type'), 'application/problem+json; charset=utf-8');
    assert.ok(down.headers.get('retry-after'));
    assert.equal(((await down.json()) as { dependency: string }).dependency, 'redis');
    // Revoking cannot be recorded either: it says so instead of pretending.
    const revoke = await fetch(`${harness.url}/v1/auth/revoke`, {
      method: 'POST',
      headers: { 'x-test-principal': 'alice', 'content-type': 'application/json' },
      body: JSON.stringify({ token: pair.accessToken }),
    });
    assert.equal(revoke.status, 503);

    redis = await startPrivateRedis(port);
    await eventually(async () => (await whoami()).status === 200, {
      timeoutMs: 20_000,
      what: 'access token accepted once Redis is back',
    });
  });
});
