import assert from 'node:assert/strict';
import { InvalidTokenError, JwtVerifier } from '../../../src/security/jwt/access-tokens';
import { ephemeralKeys, type SigningKeySource } from '../../../src/security/jwt/key-directory';
import { RedisTokenDenylist } from '../../../src/stores/tokens/redis-token-denylist';
import { requireEnv } from '../../stores/postgres/test-database';
import {
  apiKeyPrincipal,
  startTokenDatabase,
  tokenStack,
  type TokenDatabase,
  type TokenStack,
} from './jwt-fixtures';

// Refresh tokens against the real Postgres (rotation, reuse detection, the race) and the access
// token denylist in the real Redis.

describe('token sessions (refresh tokens in Postgres, denylist in Redis)', function () {
  this.timeout(30_000);
  let db: TokenDatabase;
  let keys: SigningKeySource;
  let denylist: RedisTokenDenylist;
  let stack: TokenStack;

  before(async () => {
    db = await startTokenDatabase('jwt_sessions');
    keys = await ephemeralKeys();
    denylist = new RedisTokenDenylist(requireEnv('REDIS_URL'), {
      keyPrefix: `test:jwt:${process.pid}:${Date.now()}:`,
    });
    await denylist.waitUntilReady(5_000);
  });
  beforeEach(() => {
    stack = tokenStack({ keys, denylist, db });
  });
  after(async () => {
    await denylist?.close();
    await db?.close();
  });

  const invalid = (p: Promise<unknown>) =>
    assert.rejects(p, (err: unknown) => err instanceof InvalidTokenError);

  it('issues a pair, rotates on refresh, and records token.issued and token.refreshed', async () => {
    const alice = apiKeyPrincipal(stack.principals.add('alice'));
    const first = await stack.sessions.issue(alice, { sourceIp: '203.0.113.7', requestId: 'r1' });
    assert.equal(first.tokenType, 'Bearer');
    assert.equal(first.expiresIn, 900);
    assert.equal(first.refreshExpiresIn, 7 * 24 * 3600);
    assert.match(first.refreshToken, /^rt_[A-Za-z0-9_-]{43}$/);
    assert.equal((await stack.verifier.verify(first.accessToken))?.id, 'alice');

    const second = await stack.sessions.refresh(first.refreshToken);
    assert.notEqual(second.refreshToken, first.refreshToken);
    assert.notEqual(second.accessToken, first.accessToken);
    const principal = await stack.verifier.verify(second.accessToken);
    assert.deepEqual(principal?.credential.kind, 'jwt');
    const third = await stack.sessions.refresh(second.refreshToken);
    assert.ok(third.accessToken);

    const [issued] = stack.audit.ofType('token.issued');
    assert.equal(issued?.actor, 'alice');
    assert.equal(issued?.sourceIp, '203.0.113.7');
    assert.equal(issued?.requestId, 'r1');
    assert.equal(stack.audit.ofType('token.refreshed').length, 2);
    const families = new Set(stack.audit.events.map((e) => e.target));
    assert.equal(families.size, 1, 'one family through every rotation');
  });

  it('stores the refresh token only as its hash, and never records a token in the audit log', async () => {
    const pair = await stack.sessions.issue(apiKeyPrincipal(stack.principals.add('bob')));
    const { rows } = await db.database.primary.raw(
      `SELECT * FROM refresh_tokens WHERE principal_id = 'bob'`,
    );
    const dump = JSON.stringify(rows);
    assert.ok(!dump.includes(pair.refreshToken.slice(3)));
    assert.ok(!dump.includes(pair.accessToken));
    const audit = JSON.stringify(stack.audit.events);
    assert.ok(!audit.includes(pair.refreshToken.slice(3)) && !audit.includes(pair.accessToken));
  });

  it('a used refresh token presented again revokes its family, denies its access tokens, and records token.reuse_detected', async () => {
    const carol = apiKeyPrincipal(stack.principals.add('carol'));
    const first = await stack.sessions.issue(carol);
    const second = await stack.sessions.refresh(first.refreshToken);
    assert.ok(await stack.verifier.verify(second.accessToken));

    await invalid(stack.sessions.refresh(first.refreshToken)); // the thief, or the client: reuse
    const [reuse] = stack.audit.ofType('token.reuse_detected');
    assert.equal(reuse?.actor, 'carol');
    assert.equal(reuse?.detail?.accessTokensDenied, 2);
    // The whole family is gone: the legitimate successor too, and its access token at once.
    await invalid(stack.sessions.refresh(second.refreshToken));
    assert.equal(await stack.verifier.verify(second.accessToken), undefined);
    assert.equal(await stack.verifier.verify(first.accessToken), undefined);
    // Reported once: presenting tokens of a revoked family is refused without a new alarm.
    await invalid(stack.sessions.refresh(first.refreshToken));
    assert.equal(stack.audit.ofType('token.reuse_detected').length, 1);

    // Another session of the same principal is untouched.
    const other = await stack.sessions.issue(carol);
    assert.ok(await stack.sessions.refresh(other.refreshToken));
  });

  it('two simultaneous refreshes with the same token: exactly one succeeds', async () => {
    const dave = apiKeyPrincipal(stack.principals.add('dave'));
    for (let round = 0; round < 5; round++) {
      const pair = await stack.sessions.issue(dave);
      const results = await Promise.allSettled(
        Array.from({ length: 4 }, () => stack.sessions.refresh(pair.refreshToken)),
      );
      const won = results.filter((r) => r.status === 'fulfilled');
      assert.equal(won.length, 1, `round ${round}: ${won.length} refreshes succeeded`);
      for (const r of results)
        if (r.status === 'rejected')
          assert.ok(r.reason instanceof InvalidTokenError, String(r.reason));
    }
  });

  it('refuses unknown, malformed and expired refresh tokens without revoking anything', async () => {
    const erin = apiKeyPrincipal(stack.principals.add('erin'));
    const pair = await stack.sessions.issue(erin);
    await invalid(stack.sessions.refresh(`rt_${'A'.repeat(43)}`));
    await invalid(stack.sessions.refresh('not a token'));
    await invalid(stack.sessions.refresh(pair.accessToken));

    const expiring = await stack.sessions.issue(erin);
    await db.database.primary.raw(
      `UPDATE refresh_tokens SET expires_at = now() - interval '1 second'
        WHERE family_id = (SELECT family_id FROM refresh_tokens ORDER BY created_at DESC LIMIT 1)`,
    );
    await invalid(stack.sessions.refresh(expiring.refreshToken));
    assert.equal(stack.audit.ofType('token.reuse_detected').length, 0);
    assert.ok(await stack.sessions.refresh(pair.refreshToken));
  });

  it('ends the session at the next refresh once its principal is gone', async () => {
    const frank = apiKeyPrincipal(stack.principals.add('frank'));
    const pair = await stack.sessions.issue(frank);
    stack.principals.records.delete('frank');
    assert.equal(await stack.verifier.verify(pair.accessToken), undefined);
    await invalid(stack.sessions.refresh(pair.refreshToken));
    assert.equal(stack.audit.ofType('token.revoked')[0]?.detail?.reason, 'principal_gone');
    stack.principals.add('frank');
    await invalid(stack.sessions.refresh(pair.refreshToken));
    assert.equal(await stack.verifier.verify(pair.accessToken), undefined, 'denied too');
  });

  it('keeps a scoped API key’s cap in every token of its session', async () => {
    const gina = apiKeyPrincipal(stack.principals.add('gina'), { scope: 'reader' });
    const pair = await stack.sessions.issue(gina);
    assert.equal((await stack.verifier.verify(pair.accessToken))?.scope, 'reader');
    const next = await stack.sessions.refresh(pair.refreshToken);
    assert.equal((await stack.verifier.verify(next.accessToken))?.scope, 'reader');
    const unscoped = await stack.sessions.issue(apiKeyPrincipal(stack.principals.get('gina')));
    assert.equal((await stack.verifier.verify(unscoped.accessToken))?.scope, undefined);
  });

  it('revokes the caller’s own tokens only: an access token until it expires, a refresh token with its family', async () => {
    const hal = apiKeyPrincipal(stack.principals.add('hal'));
    const ivy = apiKeyPrincipal(stack.principals.add('ivy'));
    const halPair = await stack.sessions.issue(hal);
    const ivyPair = await stack.sessions.issue(ivy);

    // Someone else's tokens are left alone, silently.
    await stack.sessions.revoke(hal, ivyPair.accessToken);
    await stack.sessions.revoke(hal, ivyPair.refreshToken);
    assert.ok(await stack.verifier.verify(ivyPair.accessToken));

    await stack.sessions.revoke(hal, halPair.accessToken);
    assert.equal(await stack.verifier.verify(halPair.accessToken), undefined);
    const ttl = await denylist['client'].pTTL(
      `${denylist['options'].keyPrefix}${(await stack.accessTokens.verifySignatureAndClaims(halPair.accessToken)).jti}`,
    );
    assert.ok(ttl > 0 && ttl <= 900_000, `the entry expires with the token (pttl ${ttl})`);

    const refreshed = await stack.sessions.refresh(halPair.refreshToken);
    await stack.sessions.revoke(hal, refreshed.refreshToken);
    await invalid(stack.sessions.refresh(refreshed.refreshToken));
    assert.equal(await stack.verifier.verify(refreshed.accessToken), undefined);
    assert.deepEqual(
      stack.audit.ofType('token.revoked').map((e) => e.detail?.kind),
      ['access', 'refresh'],
    );
    assert.ok(await stack.sessions.refresh(ivyPair.refreshToken));
  });

  it('purges refresh tokens that expired, and only those', async () => {
    const kim = apiKeyPrincipal(stack.principals.add('kim'));
    const live = await stack.sessions.issue(kim);
    await stack.sessions.issue(kim);
    await db.database.primary.raw(
      `UPDATE refresh_tokens SET expires_at = now() - interval '1 hour'
        WHERE id = (SELECT id FROM refresh_tokens WHERE principal_id = 'kim' ORDER BY created_at DESC LIMIT 1)`,
    );
    const count = async () =>
      Number(
        (
          await db.database
            .primary('refresh_tokens')
            .where({ principal_id: 'kim' })
            .count({ n: '*' })
        )[0]!.n,
      );
    assert.equal(await count(), 2);
    assert.ok((await db.refreshTokens.purgeExpired(new Date())) >= 1);
    assert.equal(await count(), 1);
    assert.ok(await stack.sessions.refresh(live.refreshToken));
  });

  it('the verifier reuses a resolved principal for its cache TTL, until invalidated', async () => {
    const lee = apiKeyPrincipal(stack.principals.add('lee'));
    const pair = await stack.sessions.issue(lee);
    const cached = new JwtVerifier(stack.accessTokens, stack.principals, 60_000);
    assert.equal((await cached.verify(pair.accessToken))?.superAdmin, false);
    stack.principals.records.set('lee', { ...stack.principals.get('lee'), superAdmin: true });
    assert.equal((await cached.verify(pair.accessToken))?.superAdmin, false, 'cached');
    assert.equal((await stack.verifier.verify(pair.accessToken))?.superAdmin, true, 'uncached');
    cached.invalidate('lee');
    assert.equal((await cached.verify(pair.accessToken))?.superAdmin, true);
    stack.principals.records.delete('lee');
    cached.invalidate('lee');
    assert.equal(await cached.verify(pair.accessToken), undefined);
  });
});
