import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { AuditEvent, AuditLog } from '../../domain/audit';
import type { Principal, PrincipalDirectory } from '../../domain/principal';
import type { LiveAccessTokens, RefreshTokenStore, TokenDenylist } from '../../domain/tokens';
import { InvalidTokenError, type AccessTokens, type ScopedPrincipal } from './access-tokens';

// Sign-in sessions: an access token (a 15-minute JWT) with a refresh token (opaque, 7 days) that is
// exchanged for a new pair on each use. Each refresh token is good for one exchange: presenting one
// that was exchanged already means two parties hold it (a thief or the client), so its whole family
// is revoked, including the access tokens issued with it, and `token.reuse_detected` is recorded.
// There is no grace window, so a client must not refresh twice concurrently: the second call counts
// as reuse and ends the session.

export interface TokenPair {
  readonly accessToken: string;
  readonly tokenType: 'Bearer';
  /** Seconds the access token is valid for. */
  readonly expiresIn: number;
  readonly refreshToken: string;
  /** Seconds the refresh token is valid for. */
  readonly refreshExpiresIn: number;
}

/** Where a request came from, for the audit log. */
export interface RequestOrigin {
  readonly sourceIp?: string;
  readonly requestId?: string;
}

const refreshTokenPrefix = 'rt_';
/** 32 random bytes, base64url: 43 characters after the prefix. */
const refreshTokenPattern = /^rt_[A-Za-z0-9_-]{43}$/;

export function isRefreshTokenShaped(token: string): boolean {
  return refreshTokenPattern.test(token);
}

function hashOf(refreshToken: string): Buffer {
  return createHash('sha256').update(refreshToken).digest();
}

export class TokenSessions {
  constructor(
    private readonly deps: {
      readonly accessTokens: AccessTokens;
      readonly refreshTokens: RefreshTokenStore;
      readonly denylist: TokenDenylist;
      readonly principals: PrincipalDirectory;
      readonly audit: AuditLog;
      readonly refreshTtlSeconds: number;
    },
  ) {}

  /** Starts a session for an authenticated principal (the API key exchange). */
  async issue(principal: ScopedPrincipal, origin: RequestOrigin = {}): Promise<TokenPair> {
    const now = new Date();
    const familyId = randomUUID();
    const scope = principal.scope;
    const access = await this.deps.accessTokens.issue(principal.id, { scope, now });
    const refreshToken = newRefreshToken();
    await this.deps.refreshTokens.insert({
      familyId,
      principalId: principal.id,
      scope: scope ?? null,
      tokenHash: hashOf(refreshToken),
      expiresAt: this.refreshExpiry(now),
      accessJti: access.jti,
      accessExpiresAt: new Date(access.exp * 1000),
    });
    await this.record('token.issued', principal.id, familyId, origin, {
      jti: access.jti,
      via: principal.credential.kind,
    });
    return this.pair(access.token, refreshToken);
  }

  /**
   * Exchanges a refresh token for a new pair.
   * @throws InvalidTokenError when the token is not live (and on reuse, after revoking its family).
   */
  async refresh(refreshToken: string, origin: RequestOrigin = {}): Promise<TokenPair> {
    if (!isRefreshTokenShaped(refreshToken)) throw new InvalidTokenError('not a refresh token');
    const now = new Date();
    let issued: { token: string; refreshToken: string; jti: string } | undefined;
    const use = await this.deps.refreshTokens.rotate(hashOf(refreshToken), now, async (used) => {
      // A principal removed (or disabled) since sign-in ends its sessions at the next refresh.
      if (!(await this.deps.principals.find(used.principalId))) return null;
      const access = await this.deps.accessTokens.issue(used.principalId, {
        scope: used.scope ?? undefined,
        now,
      });
      issued = { token: access.token, refreshToken: newRefreshToken(), jti: access.jti };
      return {
        tokenHash: hashOf(issued.refreshToken),
        expiresAt: this.refreshExpiry(now),
        accessJti: access.jti,
        accessExpiresAt: new Date(access.exp * 1000),
      };
    });
    switch (use.outcome) {
      case 'rotated':
        await this.record('token.refreshed', use.token.principalId, use.token.familyId, origin, {
          jti: issued!.jti,
        });
        return this.pair(issued!.token, issued!.refreshToken);
      case 'reused': {
        const denial = await this.denyAll(use.liveAccessTokens);
        await this.record(
          'token.reuse_detected',
          use.token.principalId,
          use.token.familyId,
          origin,
          {
            accessTokensDenied: denial.denied,
          },
        );
        denial.rethrow();
        throw new InvalidTokenError('refresh token reused');
      }
      case 'ended': {
        const denial = await this.denyAll(use.liveAccessTokens);
        await this.record('token.revoked', use.token.principalId, use.token.familyId, origin, {
          reason: 'principal_gone',
          accessTokensDenied: denial.denied,
        });
        denial.rethrow();
        throw new InvalidTokenError('principal gone');
      }
      case 'invalid':
        throw new InvalidTokenError('refresh token not live');
    }
  }

  /**
   * Revokes a token the principal holds: an access token goes on the denylist until it expires, a
   * refresh token ends its whole family. A token that is invalid, expired or someone else's is left
   * alone without saying so (RFC 7009 §2.2), so the endpoint tells nothing about others' tokens.
   */
  async revoke(principal: Principal, token: string, origin: RequestOrigin = {}): Promise<void> {
    if (isRefreshTokenShaped(token)) {
      const revoked = await this.deps.refreshTokens.revokeFamilyOf(
        hashOf(token),
        principal.superAdmin ? null : principal.id,
      );
      if (!revoked) return;
      const denial = await this.denyAll(revoked.liveAccessTokens);
      await this.record('token.revoked', principal.id, revoked.familyId, origin, {
        kind: 'refresh',
        owner: revoked.principalId,
        accessTokensDenied: denial.denied,
      });
      denial.rethrow();
      return;
    }
    let verified;
    try {
      verified = await this.deps.accessTokens.verifySignatureAndClaims(token);
    } catch (err) {
      if (err instanceof InvalidTokenError) return;
      throw err;
    }
    if (verified.principalId !== principal.id && !principal.superAdmin) return;
    await this.deps.accessTokens.revoke(verified);
    await this.record('token.revoked', principal.id, verified.jti, origin, {
      kind: 'access',
      owner: verified.principalId,
    });
  }

  /**
   * Denies a revoked family's live access tokens: their life shrinks from at most 15 minutes to now.
   * The family itself is revoked already (committed), and the audit event must be recorded whatever
   * happens here, so a denylist failure is handed back for the caller to raise after recording.
   */
  private async denyAll(tokens: LiveAccessTokens): Promise<{ denied: number; rethrow(): void }> {
    const results = await Promise.allSettled(
      tokens.map((t) => this.deps.denylist.deny(t.jti, t.expiresAt)),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    return {
      denied: results.filter((r) => r.status === 'fulfilled').length,
      rethrow: () => {
        if (failed) throw failed.reason;
      },
    };
  }

  private refreshExpiry(now: Date): Date {
    return new Date(now.getTime() + this.deps.refreshTtlSeconds * 1000);
  }

  private pair(accessToken: string, refreshToken: string): TokenPair {
    return {
      accessToken,
      tokenType: 'Bearer',
      expiresIn: this.deps.accessTokens.ttlSeconds,
      refreshToken,
      refreshExpiresIn: this.deps.refreshTtlSeconds,
    };
  }

  private record(
    type: AuditEvent['type'],
    actor: string,
    target: string,
    origin: RequestOrigin,
    detail: AuditEvent['detail'],
  ): Promise<void> {
    return this.deps.audit.record({
      type,
      actor,
      target,
      ...(detail ? { detail } : {}),
      ...(origin.sourceIp ? { sourceIp: origin.sourceIp } : {}),
      ...(origin.requestId ? { requestId: origin.requestId } : {}),
    });
  }
}

function newRefreshToken(): string {
  return refreshTokenPrefix + randomBytes(32).toString('base64url');
}
