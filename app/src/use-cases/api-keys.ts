import {
  apiKeyScopes,
  scopeRole,
  type AccessChanged,
  type ApiKeyInfo,
  type ApiKeyMinter,
  type ApiKeyScope,
  type ApiKeyStore,
  type PrincipalStore,
  type StoredPrincipal,
} from '../domain/access';
import { ConflictError, ForbiddenError, InvalidInputError, NotFoundError } from '../domain/errors';
import type { Principal } from '../domain/principal';
import { actsAsSuperAdmin, systemPrincipal, type CollectionAccess } from './collection-access';

// API keys and the principals they belong to. A key is shown once, in the answer that creates it;
// afterwards only its id, prefix, scopes and dates are ever listed. Anyone authenticated manages
// their own keys (never with more scope than the credential they use has); a super admin manages
// anyone's and creates principals. The CLI (`npm run apikey`) calls the same use cases as the
// service's own principal, which is how production gets its first key.

export interface CreatedApiKey {
  /** The key itself: shown this once, stored nowhere. */
  readonly key: string;
  readonly info: ApiKeyInfo;
}

export interface ApiKeyUseCasesDeps {
  readonly principals: PrincipalStore;
  readonly keys: ApiKeyStore;
  readonly minter: ApiKeyMinter;
  readonly access: CollectionAccess;
  readonly changed?: AccessChanged;
  readonly now?: () => number;
}

const rank = { reader: 1, writer: 2, admin: 3 } as const;

export class ApiKeyUseCases {
  constructor(private readonly deps: ApiKeyUseCasesDeps) {}

  /**
   * A key for the caller, or (super admin) for `principalId`. Scopes default to what the calling
   * credential may do; more than that is refused.
   * @throws ForbiddenError, NotFoundError (no such principal), InvalidInputError
   */
  async create(
    principal: Principal,
    input: {
      principalId?: string;
      name?: string;
      scopes?: readonly ApiKeyScope[];
      expiresAt?: Date;
    },
  ): Promise<CreatedApiKey> {
    const targetId = input.principalId ?? principal.id;
    const forOther = targetId !== principal.id;
    if (forOther && !actsAsSuperAdmin(principal)) {
      await this.deps.access.denied(
        principal,
        targetId,
        'super_admin',
        'key for another principal',
      );
      throw new ForbiddenError('only a super admin creates keys for other principals');
    }
    const target = await this.deps.principals.get(targetId);
    if (!target || target.disabled) throw new NotFoundError('principal', targetId);
    const scopes = [...new Set(input.scopes ?? apiKeyScopes.filter((s) => allowed(principal, s)))];
    if (scopes.length === 0) throw new InvalidInputError('a key needs at least one scope');
    if (!forOther && scopes.some((s) => !allowed(principal, s))) {
      await this.deps.access.denied(principal, targetId, scopes.join(','), 'scope escalation');
      throw new ForbiddenError('a key cannot carry more scope than the credential creating it');
    }
    const now = (this.deps.now ?? Date.now)();
    if (input.expiresAt && input.expiresAt.getTime() <= now) {
      throw new InvalidInputError('expiresAt must be in the future');
    }
    const minted = this.deps.minter.mint();
    const info = await this.deps.keys.create({
      principalId: target.id,
      name: input.name ?? null,
      prefix: minted.prefix,
      hash: minted.hash,
      scopes,
      expiresAt: input.expiresAt ?? null,
    });
    await this.deps.access.record({
      type: 'api_key.created',
      actor: principal.id,
      target: info.id,
      detail: { principal: target.id, scopes: scopes.join(','), prefix: info.prefix },
    });
    return { key: minted.key, info };
  }

  /** The caller's keys (a super admin: anyone's), without secrets. */
  async list(principal: Principal, principalId?: string): Promise<ApiKeyInfo[]> {
    const targetId = principalId ?? principal.id;
    if (targetId !== principal.id && !actsAsSuperAdmin(principal)) {
      throw new NotFoundError('principal', targetId);
    }
    return this.deps.keys.listFor(targetId);
  }

  /**
   * Revokes one of the caller's keys (a super admin: anyone's); someone else's key answers as a
   * missing one. Counts at once in this process and, on its access change notice, in every other.
   * @throws NotFoundError, ForbiddenError (a read-only credential)
   */
  async revoke(principal: Principal, keyId: string): Promise<ApiKeyInfo> {
    const key = await this.deps.keys.get(keyId);
    if (!key || (key.principalId !== principal.id && !actsAsSuperAdmin(principal))) {
      throw new NotFoundError('api key', keyId);
    }
    // Revoking one's own key is allowed to any credential of one's own: that is how a leaked
    // read-only key is killed without first finding an admin one.
    await this.deps.keys.revoke(key.id);
    this.deps.changed?.(key.principalId);
    await this.deps.access.record({
      type: 'api_key.revoked',
      actor: principal.id,
      target: key.id,
      detail: { principal: key.principalId, prefix: key.prefix },
    });
    return (await this.deps.keys.get(key.id)) ?? key;
  }

  /** A new principal (super admin only): the CLI's `--create-principal`, POST /v1/principals. */
  async createPrincipal(
    principal: Principal,
    input: { name: string; superAdmin?: boolean; tier?: string },
  ): Promise<StoredPrincipal> {
    if (!actsAsSuperAdmin(principal)) {
      await this.deps.access.denied(principal, input.name, 'super_admin', 'create principal');
      throw new ForbiddenError('only a super admin creates principals');
    }
    const created = await this.deps.principals.create(input);
    await this.deps.access.record({
      type: 'role.changed',
      actor: principal.id,
      target: created.id,
      detail: { principal: created.name, superAdmin: created.superAdmin, created: true },
    });
    return created;
  }

  findPrincipal(name: string): Promise<StoredPrincipal | undefined> {
    return this.deps.principals.getByName(name);
  }

  /**
   * The embedded default's first credential: when no principal exists at all, a super admin
   * `admin` with a full key, returned to be printed once. Afterwards (or if another process won
   * the race) nothing. The caller decides never to call this in production.
   */
  async bootstrap(): Promise<CreatedApiKey | undefined> {
    if ((await this.deps.principals.count()) > 0) return undefined;
    let admin: StoredPrincipal;
    try {
      admin = await this.createPrincipal(systemPrincipal, { name: 'admin', superAdmin: true });
    } catch (err) {
      if (err instanceof ConflictError) return undefined;
      throw err;
    }
    return this.create(systemPrincipal, {
      principalId: admin.id,
      name: 'quick start',
      scopes: [...apiKeyScopes],
    });
  }
}

function allowed(principal: Principal, scope: ApiKeyScope): boolean {
  return principal.scope === undefined || rank[scopeRole[scope]] <= rank[principal.scope];
}
