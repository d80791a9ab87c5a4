import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync, randomUUID } from 'node:crypto';
import {
  AccessTokens,
  InvalidTokenError,
  type AccessTokenSettings,
} from '../../../src/security/jwt/access-tokens';
import { loadJose, type JoseCryptoKey } from '../../../src/security/jwt/jose';
import type { SigningKeySource } from '../../../src/security/jwt/key-directory';
import {
  buildKeyRing,
  generateEphemeralKey,
  type SigningKey,
} from '../../../src/security/jwt/signing-keys';
import { MemoryTokenDenylist } from '../../../src/stores/tokens/memory-token-denylist';
import { settings } from './jwt-fixtures';

// Every way an access token can be wrong is refused, each by its own check: each case below is
// signed correctly except for the one thing it gets wrong, so it would pass if that check were gone.

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);

describe('access tokens (jose, EdDSA)', () => {
  let key: SigningKey;
  let keys: SigningKeySource;
  let denylist: MemoryTokenDenylist;
  let tokens: AccessTokens;

  before(async () => {
    key = await generateEphemeralKey('2026-12-01');
    const ring = buildKeyRing([key]);
    keys = { current: () => ring, close: async () => undefined };
  });
  beforeEach(() => {
    denylist = new MemoryTokenDenylist();
    tokens = new AccessTokens(keys, denylist, settings);
  });

  /** A token as the service would sign it, with `change` applied to header and claims. */
  async function forged(
    change: {
      header?: Record<string, unknown>;
      claims?: Record<string, unknown>;
      signWith?: JoseCryptoKey | Uint8Array;
    } = {},
  ): Promise<string> {
    const { SignJWT } = await loadJose();
    const iat = now();
    const claims = {
      iss: settings.issuer,
      aud: settings.audience,
      sub: 'alice',
      jti: randomUUID(),
      iat,
      nbf: iat,
      exp: iat + 900,
      ...change.claims,
    };
    for (const [k, v] of Object.entries(claims))
      if (v === undefined) delete (claims as Record<string, unknown>)[k];
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'EdDSA', kid: key.kid, typ: 'at+jwt', ...change.header } as never)
      .sign(change.signWith ?? key.privateKey!);
  }

  /** Refused, for the reason the case is about (jose's error code, and the claim it names). */
  const refused = (token: string, reason: RegExp) =>
    assert.rejects(tokens.verify(token), (err: unknown) => {
      assert.ok(err instanceof InvalidTokenError, String(err));
      assert.match(err.message, reason);
      return true;
    });

  it('issues a 15-minute EdDSA token with kid, typ, iss, aud, sub and jti, and verifies it', async () => {
    const issued = await tokens.issue('alice');
    const [header, payload] = issued.token
      .split('.')
      .slice(0, 2)
      .map((p) => JSON.parse(Buffer.from(p, 'base64url').toString()));
    assert.deepEqual(header, { alg: 'EdDSA', kid: '2026-12-01', typ: 'at+jwt' });
    assert.equal(payload.iss, settings.issuer);
    assert.equal(payload.aud, settings.audience);
    assert.equal(payload.sub, 'alice');
    assert.equal(payload.jti, issued.jti);
    assert.equal(payload.exp - payload.iat, 900);
    assert.deepEqual(await tokens.verify(issued.token), {
      principalId: 'alice',
      jti: issued.jti,
      exp: issued.exp,
    });
  });

  it('the control token of these cases verifies (so each refusal below is its own check)', async () => {
    assert.equal((await tokens.verify(await forged())).principalId, 'alice');
  });

  it('refuses alg "none" (an unsigned token)', async () => {
    const iat = now();
    const unsigned = `${b64({ alg: 'none', typ: 'at+jwt', kid: key.kid })}.${b64({
      iss: settings.issuer,
      aud: settings.audience,
      sub: 'alice',
      jti: randomUUID(),
      iat,
      nbf: iat,
      exp: iat + 900,
    })}.`;
    await refused(unsigned, /ALG_NOT_ALLOWED/);
  });

  it('refuses HS256 keyed with the public key (key confusion), in every encoding of it', async () => {
    const spki = createPublicKey({ key: key.publicJwk as never, format: 'jwk' });
    const secrets = [
      Buffer.from(spki.export({ type: 'spki', format: 'pem' }) as string),
      spki.export({ type: 'spki', format: 'der' }),
      Buffer.from(key.publicJwk.x!, 'base64url'),
      Buffer.from(JSON.stringify(key.publicJwk)),
    ];
    for (const secret of secrets)
      await refused(
        await forged({ header: { alg: 'HS256' }, signWith: new Uint8Array(secret) }),
        /ALG_NOT_ALLOWED/,
      );
  });

  it('refuses an algorithm no held key has (RS256), even with a valid RSA signature', async () => {
    const { importPKCS8 } = await loadJose();
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const rsaKey = await importPKCS8(
      rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
      'RS256',
    );
    await refused(await forged({ header: { alg: 'RS256' }, signWith: rsaKey }), /ALG_NOT_ALLOWED/);
  });

  it('refuses an unknown kid, a missing kid, and a held kid over another key’s signature', async () => {
    const other = await generateEphemeralKey('other');
    await refused(
      await forged({ header: { kid: 'other' }, signWith: other.privateKey }),
      /no key with this kid/,
    );
    await refused(await forged({ header: { kid: undefined } }), /no key with this kid/);
    await refused(await forged({ signWith: other.privateKey }), /SIGNATURE_VERIFICATION_FAILED/);
  });

  it('refuses a wrong issuer and a wrong audience', async () => {
    await refused(await forged({ claims: { iss: 'https://evil.test' } }), /:iss$/);
    await refused(await forged({ claims: { aud: 'another-api' } }), /:aud$/);
  });

  it('refuses an expired token and one not yet valid (beyond the clock tolerance)', async () => {
    await refused(
      await forged({ claims: { iat: now() - 1000, nbf: now() - 1000, exp: now() - 60 } }),
      /JWT_EXPIRED/,
    );
    await refused(await forged({ claims: { nbf: now() + 120 } }), /:nbf$/);
  });

  it('refuses a token of another type, or missing sub, jti or exp', async () => {
    await refused(await forged({ header: { typ: 'JWT' } }), /:typ$/);
    for (const claim of ['sub', 'jti', 'exp'])
      await refused(await forged({ claims: { [claim]: undefined } }), new RegExp(`:${claim}$`));
  });

  it('refuses garbage, a truncated signature and an oversized token without a 500-style error', async () => {
    const good = await forged();
    for (const bad of ['', 'a.b.c', 'not-a-jwt', good.slice(0, -4)])
      await refused(bad, /JWS_INVALID|SIGNATURE_VERIFICATION_FAILED/);
    await refused(`${good}${'x'.repeat(5000)}`, /too long/);
  });

  it('refuses a revoked token until it expires, and only that one', async () => {
    const a = await tokens.issue('alice');
    const b = await tokens.issue('alice');
    await tokens.revoke(await tokens.verify(a.token));
    await refused(a.token, /revoked/);
    assert.equal((await tokens.verify(b.token)).jti, b.jti);
  });
});

describe('access token settings', () => {
  it('a token of another issuer configuration is refused by this one', async () => {
    const key = await generateEphemeralKey('k');
    const ring = buildKeyRing([key]);
    const keys = { current: () => ring, close: async () => undefined };
    const other: AccessTokenSettings = { ...settings, issuer: 'https://other.test' };
    const issued = await new AccessTokens(keys, new MemoryTokenDenylist(), other).issue('bob');
    await assert.rejects(
      new AccessTokens(keys, new MemoryTokenDenylist(), settings).verify(issued.token),
      InvalidTokenError,
    );
  });
});
