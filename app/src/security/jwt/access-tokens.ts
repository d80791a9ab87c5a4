import { randomUUID } from 'node:crypto';
import {
  collectionRoles,
  type CollectionRole,
  type Principal,
  type PrincipalDirectory,
  type PrincipalRecord,
} from '../../domain/principal';
import type { TokenDenylist } from '../../domain/tokens';
import { loadJose, type JoseCryptoKey } from './jose';
import type { SigningKeySource } from './key-directory';

// Access tokens: JWTs signed with the directory's signing key, verified against every key it holds.
// What a token must satisfy to be accepted, each refused otherwise:
// - its header's `alg` is one of the held keys' algorithms (so `none`, and HS256 keyed with a
//   public key, never reach a signature check), and its `kid` names a held key of that algorithm;
// - `typ` is `at+jwt` (RFC 9068), so no other JWT of ours passes as an access token;
// - `iss` and `aud` are the configured ones; `exp`, `nbf`, `iat`, `sub` and `jti` are present and
//   the token is within its lifetime (with a few seconds of tolerance for clock skew between instances);
// - its `jti` is not on the denylist (revoked before it expired).

export interface AccessTokenSettings {
  readonly issuer: string;
  readonly audience: string;
  readonly ttlSeconds: number;
  /** Skew allowed between the clocks of the instance that signed and the one that verifies. */
  readonly clockToleranceSeconds?: number;
}

export interface IssuedAccessToken {
  readonly token: string;
  readonly jti: string;
  /** Seconds since the epoch, as in the token's `exp`. */
  readonly exp: number;
}

/** What a verified access token says: the shape of authn's BearerTokenVerifier result. */
export interface VerifiedAccessToken {
  readonly principalId: string;
  readonly jti: string;
  /** Seconds since the epoch. */
  readonly exp: number;
  /** The cap the API key it was exchanged for carried (its `scope` claim), if any. */
  readonly scope?: CollectionRole;
}

/** The token is not one this service accepts; why is logged at debug level, never told to the caller. */
export class InvalidTokenError extends Error {
  override readonly name = 'InvalidTokenError';
}

export const accessTokenType = 'at+jwt';

/** Far above any token this service issues (a few hundred bytes): a bound on work per request. */
const maxTokenLength = 4096;

export class AccessTokens {
  constructor(
    private readonly keys: SigningKeySource,
    private readonly denylist: TokenDenylist,
    private readonly settings: AccessTokenSettings,
  ) {}

  get ttlSeconds(): number {
    return this.settings.ttlSeconds;
  }

  async issue(
    principalId: string,
    options: { scope?: CollectionRole; now?: Date } = {},
  ): Promise<IssuedAccessToken> {
    const now = options.now ?? new Date();
    const { SignJWT } = await loadJose();
    const signing = this.keys.current().signing;
    const iat = Math.floor(now.getTime() / 1000);
    const exp = iat + this.settings.ttlSeconds;
    const jti = randomUUID();
    // A scoped API key's cap travels with every token of its session: an exchange never widens it.
    const token = await new SignJWT(options.scope ? { scope: options.scope } : {})
      .setProtectedHeader({ alg: signing.alg, kid: signing.kid, typ: accessTokenType })
      .setIssuer(this.settings.issuer)
      .setAudience(this.settings.audience)
      .setSubject(principalId)
      .setJti(jti)
      .setIssuedAt(iat)
      .setNotBefore(iat)
      .setExpirationTime(exp)
      .sign(signing.privateKey!);
    return { token, jti, exp };
  }

  /**
   * @throws InvalidTokenError for any token not accepted (bad signature, algorithm, key, claims,
   *   expired, revoked); DependencyUnavailableError when the denylist cannot be read.
   */
  async verify(token: string): Promise<VerifiedAccessToken> {
    const claims = await this.verifySignatureAndClaims(token);
    if (await this.denylist.isDenied(claims.jti)) throw new InvalidTokenError('token revoked');
    return claims;
  }

  /** Everything verify() checks except the denylist: for revoking a token. */
  async verifySignatureAndClaims(token: string): Promise<VerifiedAccessToken> {
    if (token.length > maxTokenLength) throw new InvalidTokenError('token too long');
    const jose = await loadJose();
    // One snapshot for the allowlist and the key lookup, whatever a reload does meanwhile.
    const ring = this.keys.current();
    let payload;
    try {
      ({ payload } = await jose.jwtVerify(
        token,
        (header): JoseCryptoKey => {
          const key = header.kid === undefined ? undefined : ring.keys.get(header.kid);
          if (!key || key.alg !== header.alg)
            throw new InvalidTokenError('no key with this kid and alg');
          return key.publicKey;
        },
        {
          algorithms: [...ring.algorithms],
          issuer: this.settings.issuer,
          audience: this.settings.audience,
          typ: accessTokenType,
          requiredClaims: ['sub', 'jti', 'iat', 'nbf', 'exp'],
          clockTolerance: this.settings.clockToleranceSeconds ?? 5,
        },
      ));
    } catch (err) {
      if (err instanceof InvalidTokenError) throw err;
      if (err instanceof jose.errors.JOSEError) {
        const claim = err instanceof jose.errors.JWTClaimValidationFailed ? `:${err.claim}` : '';
        throw new InvalidTokenError(`${err.code}${claim}`, { cause: err });
      }
      // jose reports some malformed inputs (a header that is not JSON) with a plain TypeError.
      if (err instanceof TypeError) throw new InvalidTokenError('malformed token', { cause: err });
      throw err;
    }
    const { sub, jti, exp, scope } = payload;
    if (typeof sub !== 'string' || sub === '' || typeof jti !== 'string' || jti === '')
      throw new InvalidTokenError('sub and jti must be non-empty strings');
    if (scope !== undefined && !collectionRoles.includes(scope as CollectionRole))
      throw new InvalidTokenError('unknown scope');
    return {
      principalId: sub,
      jti,
      exp: exp!,
      ...(scope !== undefined ? { scope: scope as CollectionRole } : {}),
    };
  }

  /** Denies a verified token until it would have expired anyway. */
  async revoke(token: VerifiedAccessToken): Promise<void> {
    await this.denylist.deny(token.jti, new Date(token.exp * 1000));
  }
}

/** A principal with the credential cap authn's Principal carries (`scope`), if it does. */
export type ScopedPrincipal = Principal & { readonly scope?: CollectionRole };

/**
 * What authn's middleware calls for a bearer credential that is not an API key (the shape of its
 * BearerTokenVerifier): the principal the token's subject names, as the PrincipalDirectory has it
 * now (a principal removed or disabled since is refused at once), with the token as its credential.
 * Undefined for any token not accepted; throws only when the denylist or the directory is down.
 */
export class JwtVerifier {
  private readonly cache = new Map<string, { record: PrincipalRecord; until: number }>();
  /** Bumped by every invalidation: a directory read that raced one is used once, never kept. */
  private epoch = 0;

  constructor(
    private readonly tokens: AccessTokens,
    private readonly principals: PrincipalDirectory,
    /**
     * How long a resolved principal is reused (0: a directory read per request). Give it the bound
     * API keys' cache has, and call invalidate() where roles or keys change, as for API keys.
     */
    private readonly principalCacheTtlMs = 0,
  ) {}

  /** The token's claims alone, without resolving the principal. */
  verifyClaims(token: string): Promise<VerifiedAccessToken> {
    return this.tokens.verify(token);
  }

  async verify(token: string): Promise<ScopedPrincipal | undefined> {
    let claims: VerifiedAccessToken;
    try {
      claims = await this.tokens.verify(token);
    } catch (err) {
      if (err instanceof InvalidTokenError) return undefined;
      throw err;
    }
    const record = await this.principal(claims.principalId);
    if (!record) return undefined;
    return {
      ...record,
      credential: { kind: 'jwt', id: claims.jti },
      ...(claims.scope ? { scope: claims.scope } : {}),
    };
  }

  /** Forgets a principal whose roles changed, was disabled or removed (null: every principal). */
  invalidate(principalId: string | null): void {
    this.epoch++;
    if (principalId === null) this.cache.clear();
    else this.cache.delete(principalId);
  }

  private async principal(id: string): Promise<PrincipalRecord | undefined> {
    const now = Date.now();
    const cached = this.cache.get(id);
    if (cached && cached.until > now) return cached.record;
    const epoch = this.epoch;
    const record = await this.principals.find(id);
    if (record && this.principalCacheTtlMs > 0 && epoch === this.epoch) {
      if (this.cache.size >= 10_000) this.cache.clear();
      this.cache.set(id, { record, until: now + this.principalCacheTtlMs });
    } else this.cache.delete(id);
    return record;
  }
}
