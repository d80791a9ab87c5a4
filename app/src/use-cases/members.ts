import type { AccessChanged, CollectionMember, PrincipalStore, RoleStore } from '../domain/access';
import { NotFoundError } from '../domain/errors';
import type { CollectionStore } from '../domain/ports';
import type { CollectionRole, Principal } from '../domain/principal';
import type { CollectionAccess } from './collection-access';

// A collection's members and their roles, managed by its admins (and super admins).

export class MemberUseCases {
  constructor(
    private readonly deps: {
      readonly collections: Pick<CollectionStore, 'get'>;
      readonly principals: Pick<PrincipalStore, 'get'>;
      readonly roles: Pick<RoleStore, 'setRole' | 'members'>;
      readonly access: CollectionAccess;
      readonly changed?: AccessChanged;
    },
  ) {}

  /** @throws NotFoundError, ForbiddenError */
  async list(principal: Principal, collectionId: string): Promise<CollectionMember[]> {
    const collection = await this.admin(principal, collectionId);
    return this.deps.roles.members(collection.key);
  }

  /**
   * Grants `role` to `principalId` on the collection, or removes its role (null).
   * @throws NotFoundError (collection or principal), ForbiddenError
   */
  async set(
    principal: Principal,
    collectionId: string,
    principalId: string,
    role: CollectionRole | null,
  ): Promise<void> {
    const collection = await this.admin(principal, collectionId);
    const target = await this.deps.principals.get(principalId);
    if (!target) throw new NotFoundError('principal', principalId);
    const changed = await this.deps.roles.setRole(target.id, collection.key, role);
    if (!changed && role === null) throw new NotFoundError('principal', principalId);
    this.deps.changed?.(target.id);
    await this.deps.access.record({
      type: 'role.changed',
      actor: principal.id,
      target: target.id,
      collection: collection.id,
      detail: { role },
    });
  }

  private admin(principal: Principal, collectionId: string) {
    return this.deps.access.collection(principal, collectionId, 'admin', () =>
      this.deps.collections.get(collectionId, { fromPrimary: true }),
    );
  }
}
