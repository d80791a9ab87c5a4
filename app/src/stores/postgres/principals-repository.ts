import type {
  CollectionMember,
  NewPrincipal,
  PrincipalDisabling,
  PrincipalStore,
  RoleStore,
  StoredPrincipal,
} from '../../domain/access';
import { ConflictError } from '../../domain/errors';
import type { CollectionRole, PrincipalDirectory, PrincipalRecord } from '../../domain/principal';
import { notifyAccessChange } from './access-changes';
import type { Database } from './database';
import { isUuid, uniqueViolation, withPostgres } from './postgres-errors';

// Tables `principals` and `collection_roles` (migration 20261201000200). Every read
// here goes to the primary: credentials and roles are read once and then cached in memory by the
// authentication layer, and a key or role created a moment ago must count at once. Changes that
// take access away are announced to every instance's caches on commit (access-changes.ts).

interface PrincipalRow {
  id: string;
  name: string;
  super_admin: boolean;
  tier: string;
  disabled: boolean;
  created_at: Date;
}

export class PrincipalsRepository implements PrincipalStore, PrincipalDirectory, RoleStore {
  constructor(private readonly db: Database) {}

  create(input: NewPrincipal): Promise<StoredPrincipal> {
    return withPostgres(async () => {
      try {
        const [row] = await this.db
          .primary<PrincipalRow>('principals')
          .insert({
            name: input.name,
            super_admin: input.superAdmin ?? false,
            tier: input.tier ?? 'standard',
          })
          .returning('*');
        const created = row as PrincipalRow;
        return {
          ...toRecord(created, {}, {}),
          name: created.name,
          disabled: created.disabled,
          createdAt: created.created_at,
        };
      } catch (err) {
        if ((err as { code?: string }).code === uniqueViolation) {
          throw new ConflictError(`principal "${input.name}" already exists`);
        }
        throw err;
      }
    });
  }

  get(id: string): Promise<StoredPrincipal | undefined> {
    return this.load({ id }, isUuid(id));
  }

  getByName(name: string): Promise<StoredPrincipal | undefined> {
    return this.load({ name }, true);
  }

  /** PrincipalDirectory: what a JWT's subject resolves to (disabled principals resolve to nothing). */
  async find(principalId: string): Promise<PrincipalRecord | undefined> {
    const found = await this.get(principalId);
    if (!found || found.disabled) return undefined;
    return {
      id: found.id,
      superAdmin: found.superAdmin,
      roles: found.roles,
      tier: found.tier,
      roleKeys: found.roleKeys,
    };
  }

  count(): Promise<number> {
    return withPostgres(async () => {
      const row = await this.db.primary('principals').count<{ count: string }[]>('* as count');
      return Number(row[0]?.count ?? 0);
    });
  }

  setDisabled(id: string, disabled: boolean): Promise<PrincipalDisabling | undefined> {
    return withPostgres(async () => {
      if (!isUuid(id)) return undefined;
      const done = await this.db.transaction(async (trx) => {
        const found = (await trx<PrincipalRow>('principals').where({ id }).first('super_admin')) as
          Pick<PrincipalRow, 'super_admin'> | undefined;
        if (!found) return undefined;
        if (disabled && found.super_admin) {
          // Every enabled super admin, locked in one order by every such transaction: two super
          // admins disabled at once queue here, and the second counts what the first left.
          const enabled = (await trx('principals')
            .where({ super_admin: true, disabled: false })
            .orderBy('id')
            .forUpdate()
            .select('id')) as { id: string }[];
          if (enabled.length === 1 && enabled[0]!.id === id) {
            throw new ConflictError('the last enabled super admin cannot be disabled');
          }
        }
        const row = (await trx<PrincipalRow>('principals')
          .where({ id })
          .forUpdate()
          .first()) as PrincipalRow;
        if (row.disabled === disabled) {
          return { changed: false, familiesRevoked: 0, liveAccessTokens: [] };
        }
        await trx('principals').where({ id }).update({ disabled });
        // Both ways: no session can legitimately start while the principal is disabled, so a family
        // still live when it is enabled again came from a refresh that raced the disable.
        const now = new Date();
        const revoked = (await trx('refresh_tokens')
          .where({ principal_id: id })
          .whereNull('revoked_at')
          .update({ revoked_at: now })
          .returning(['family_id', 'access_jti', 'access_expires_at'])) as {
          family_id: string;
          access_jti: string;
          access_expires_at: Date;
        }[];
        await notifyAccessChange(trx, id);
        return {
          changed: true,
          familiesRevoked: new Set(revoked.map((r) => r.family_id)).size,
          liveAccessTokens: revoked
            .filter((r) => r.access_expires_at.getTime() > now.getTime())
            .map((r) => ({ jti: r.access_jti, expiresAt: r.access_expires_at })),
        };
      });
      if (!done) return undefined;
      const principal = await this.get(id);
      return principal ? { ...done, principal } : undefined;
    });
  }

  roleOn(
    principalId: string,
    collectionId: string,
  ): Promise<{ role: CollectionRole; collectionKey: string } | undefined> {
    return withPostgres(async () => {
      if (!isUuid(principalId)) return undefined;
      const row = (await this.db
        .primary('collection_roles')
        .join('collections', 'collections.id', 'collection_roles.collection_id')
        .where({ 'collection_roles.principal_id': principalId, 'collections.name': collectionId })
        .first('collection_roles.role', 'collections.id as key')) as
        { role: CollectionRole; key: string } | undefined;
      return row ? { role: row.role, collectionKey: row.key } : undefined;
    });
  }

  setRole(
    principalId: string,
    collectionKey: string,
    role: CollectionRole | null,
  ): Promise<boolean> {
    return withPostgres(async () => {
      if (!isUuid(principalId) || !isUuid(collectionKey)) return false;
      return this.db.transaction(async (db) => {
        let changed: boolean;
        if (role === null) {
          const n = await db('collection_roles')
            .where({ principal_id: principalId, collection_id: collectionKey })
            .delete();
          changed = n > 0;
        } else {
          const rows = await db('collection_roles')
            .insert({ principal_id: principalId, collection_id: collectionKey, role })
            .onConflict(['principal_id', 'collection_id'])
            .merge({ role, granted_at: db.fn.now() })
            .returning('role');
          changed = rows.length > 0;
        }
        // A role lowered or removed must stop counting on every instance at once.
        if (changed) await notifyAccessChange(db, principalId);
        return changed;
      });
    });
  }

  members(collectionKey: string): Promise<CollectionMember[]> {
    return withPostgres(async () => {
      if (!isUuid(collectionKey)) return [];
      const rows = (await this.db
        .primary('collection_roles')
        .join('principals', 'principals.id', 'collection_roles.principal_id')
        .where({ 'collection_roles.collection_id': collectionKey })
        .orderBy('principals.name')
        .select('principals.id', 'principals.name', 'collection_roles.role')) as {
        id: string;
        name: string;
        role: CollectionRole;
      }[];
      return rows.map((r) => ({ principalId: r.id, name: r.name, role: r.role }));
    });
  }

  private load(
    where: { id: string } | { name: string },
    valid: boolean,
  ): Promise<StoredPrincipal | undefined> {
    return withPostgres(async () => {
      if (!valid) return undefined;
      const row = (await this.db.primary<PrincipalRow>('principals').where(where).first()) as
        PrincipalRow | undefined;
      if (!row) return undefined;
      const roleRows = (await this.db
        .primary('collection_roles')
        .join('collections', 'collections.id', 'collection_roles.collection_id')
        .where({ 'collection_roles.principal_id': row.id })
        .select('collections.name', 'collections.id as key', 'collection_roles.role')) as {
        name: string;
        key: string;
        role: CollectionRole;
      }[];
      const roles: Record<string, CollectionRole> = {};
      const roleKeys: Record<string, string> = {};
      for (const r of roleRows) {
        roles[r.name] = r.role;
        roleKeys[r.name] = r.key;
      }
      return {
        ...toRecord(row, roles, roleKeys),
        name: row.name,
        disabled: row.disabled,
        createdAt: row.created_at,
      };
    });
  }
}

function toRecord(
  row: PrincipalRow,
  roles: Record<string, CollectionRole>,
  roleKeys: Record<string, string>,
): PrincipalRecord {
  return { id: row.id, superAdmin: row.super_admin, tier: row.tier, roles, roleKeys };
}
