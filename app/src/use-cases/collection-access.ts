import type { AccessChanged, RoleStore } from '../domain/access';
import type { AuditEvent, AuditLog } from '../domain/audit';
import type { Collection } from '../domain/collection';
import { ForbiddenError, NotFoundError } from '../domain/errors';
import type { CollectionRole, Principal } from '../domain/principal';
import type { UseCaseLogger } from './use-case-logger';

// Authorization, decided by the use cases themselves (deny by default), so no route, batch job or
// future transport reaches a collection its caller holds no role on.
//
//   reader: query; get the collection; list and get its documents
//   writer: + ingest, delete and retry documents
//   admin:  + delete the collection, manage its members
//   super_admin: every collection (as admin), every principal's keys
//
// A credential's scope caps all of it (a `read` key of an admin only reads). A caller without a
// role on a collection gets exactly what a missing collection gets (NotFoundError), so it cannot
// learn that the collection exists; one with a role too weak gets ForbiddenError (it already
// knows the collection).

const rank: Record<CollectionRole, number> = { reader: 1, writer: 2, admin: 3 };

/** The service's own principal (the embedded demo corpus): not stored, holds no roles. */
export const systemPrincipal: Principal = {
  id: 'system',
  superAdmin: true,
  roles: {},
  tier: 'internal',
  credential: { kind: 'api-key', id: 'system' },
};

function capped(principal: Principal, role: CollectionRole | undefined) {
  if (!role) return undefined;
  if (principal.scope && rank[principal.scope] < rank[role]) return principal.scope;
  return role;
}

/** Whether the principal acts as a super admin with this credential (a capped key does not). */
export function actsAsSuperAdmin(principal: Principal): boolean {
  return principal.superAdmin && (principal.scope === undefined || principal.scope === 'admin');
}

export function atLeast(principal: Principal, needed: CollectionRole): boolean {
  return principal.scope === undefined || rank[principal.scope] >= rank[needed];
}

export interface CollectionAccessDeps {
  readonly roles: Pick<RoleStore, 'roleOn'>;
  readonly audit: AuditLog;
  readonly logger: UseCaseLogger;
  /** Tells the credential caches a principal's roles changed (this process at once). */
  readonly changed?: AccessChanged;
}

export class CollectionAccess {
  constructor(private readonly deps: CollectionAccessDeps) {}

  /**
   * The collection, when the principal may act on it with `needed`; `load` reads it (the cache,
   * the replica or the primary: the caller's choice).
   * @throws NotFoundError when it does not exist or the principal holds no role on it;
   *   ForbiddenError when the role (or the credential's scope) is too weak.
   */
  async collection(
    principal: Principal,
    collectionId: string,
    needed: CollectionRole,
    load: () => Promise<Collection | undefined>,
  ): Promise<Collection> {
    const superAdmin = principal.superAdmin;
    let role: CollectionRole | undefined = superAdmin ? 'admin' : principal.roles[collectionId];
    if (!role) return this.recheck(principal, collectionId, needed, load);
    const collection = await load();
    if (!collection) throw new NotFoundError('collection', collectionId);
    const grantedOn = principal.roleKeys?.[collectionId];
    // A role of an earlier incarnation of this id counts for nothing.
    if (!superAdmin && grantedOn !== undefined && grantedOn !== collection.key) {
      return this.recheck(principal, collectionId, needed, load);
    }
    role = capped(principal, role);
    return this.allow(principal, collection, needed, role);
  }

  /**
   * The role cached with the principal may predate a grant made through another instance (a
   * collection created there a moment ago): before denying, ask the primary. Only a denial pays
   * this round trip.
   */
  private async recheck(
    principal: Principal,
    collectionId: string,
    needed: CollectionRole,
    load: () => Promise<Collection | undefined>,
  ): Promise<Collection> {
    const fresh = await this.deps.roles.roleOn(principal.id, collectionId);
    if (!fresh) {
      await this.denied(principal, collectionId, needed, 'no role');
      throw new NotFoundError('collection', collectionId);
    }
    this.deps.changed?.(principal.id);
    const collection = await load();
    if (!collection || collection.key !== fresh.collectionKey) {
      throw new NotFoundError('collection', collectionId);
    }
    return this.allow(principal, collection, needed, capped(principal, fresh.role));
  }

  private async allow(
    principal: Principal,
    collection: Collection,
    needed: CollectionRole,
    role: CollectionRole | undefined,
  ): Promise<Collection> {
    if (!role || rank[role] < rank[needed]) {
      await this.denied(principal, collection.id, needed, `holds ${role ?? 'no role'}`);
      throw new ForbiddenError(`this operation needs the ${needed} role on the collection`);
    }
    return collection;
  }

  async denied(
    principal: Principal,
    collectionId: string,
    needed: string,
    why: string,
  ): Promise<void> {
    await this.record({
      type: 'access.denied',
      actor: principal.id,
      collection: collectionId,
      target: collectionId,
      detail: { needed, why, credential: principal.credential.id },
    });
  }

  /** Security events are never dropped silently; a failing audit store does not fail the call. */
  async record(event: AuditEvent): Promise<void> {
    await this.deps.audit
      .record(event)
      .catch((err: unknown) =>
        this.deps.logger.warn('audit event not recorded', { err, type: event.type }),
      );
  }
}
