import type { AccessChanged, PrincipalStore, StoredPrincipal } from '../domain/access';
import { ConflictError, ForbiddenError, NotFoundError } from '../domain/errors';
import type { Principal } from '../domain/principal';
import type { TokenDenylist } from '../domain/tokens';
import { actsAsSuperAdmin, type CollectionAccess } from './collection-access';
import type { UseCaseLogger } from './use-case-logger';

// Principals as a whole, managed by super admins: disabling one is how a leaked or departed
// identity is cut off at once, every credential of it together, without losing its keys, roles and
// history (enabling it again restores its API keys; its sign-in sessions stay ended).

export interface PrincipalUseCasesDeps {
  readonly principals: Pick<PrincipalStore, 'get' | 'setDisabled'>;
  readonly access: CollectionAccess;
  /** Access tokens of the revoked sessions go here; absent where tokens are off (or unreachable). */
  readonly denylist?: Pick<TokenDenylist, 'deny'>;
  readonly changed?: AccessChanged;
  readonly logger?: UseCaseLogger;
}

export class PrincipalUseCases {
  constructor(private readonly deps: PrincipalUseCasesDeps) {}

  /**
   * Disables (true) or enables (false) a principal. A disabled principal's API keys and access
   * tokens are refused by every instance as soon as the change commits (the access change notice),
   * its refresh token families are revoked and their live access tokens denied. Doing it again is
   * a no-op.
   * @throws ForbiddenError (not a super admin), NotFoundError, ConflictError (oneself, or the last
   *   enabled super admin)
   */
  async setDisabled(
    principal: Principal,
    principalId: string,
    disabled: boolean,
    origin: { sourceIp?: string; requestId?: string } = {},
  ): Promise<StoredPrincipal> {
    const verb = disabled ? 'disable' : 'enable';
    if (!actsAsSuperAdmin(principal)) {
      await this.deps.access.denied(principal, principalId, 'super_admin', `${verb} principal`);
      throw new ForbiddenError(`only a super admin can ${verb} principals`);
    }
    if (disabled && principalId === principal.id) {
      throw new ConflictError('a super admin cannot disable themselves');
    }
    const done = await this.deps.principals.setDisabled(principalId, disabled);
    if (!done) throw new NotFoundError('principal', principalId);
    if (!done.changed) return done.principal;
    // This process at once (the notice reaches the others, and this one again, on commit).
    this.deps.changed?.(principalId);
    const { denylist } = this.deps;
    const denied = denylist
      ? await Promise.allSettled(
          done.liveAccessTokens.map((t) => denylist.deny(t.jti, t.expiresAt)),
        )
      : [];
    const notDenied =
      done.liveAccessTokens.length - denied.filter((r) => r.status === 'fulfilled').length;
    await this.deps.access.record({
      type: disabled ? 'principal.disabled' : 'principal.enabled',
      actor: principal.id,
      target: principalId,
      detail: {
        principal: done.principal.name,
        refreshFamiliesRevoked: done.familiesRevoked,
        accessTokensDenied: done.liveAccessTokens.length - notDenied,
        accessTokensNotDenied: notDenied,
      },
      ...(origin.sourceIp ? { sourceIp: origin.sourceIp } : {}),
      ...(origin.requestId ? { requestId: origin.requestId } : {}),
    });
    // The change is committed and audited: it stands. Tokens left off the denylist are refused all
    // the same while the principal stays disabled; only enabling it within their 15 minutes would
    // let them count again, which the audit event and this warning make visible.
    if (notDenied > 0) {
      this.deps.logger?.warn('access tokens of revoked sessions not denylisted', {
        principal: principalId,
        count: notDenied,
      });
    }
    return done.principal;
  }
}
