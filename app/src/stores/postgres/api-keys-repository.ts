import type { ApiKeyInfo, ApiKeyScope, ApiKeyStore, StoredApiKey } from '../../domain/access';
import { notifyAccessChange } from './access-changes';
import type { Database } from './database';
import { isUuid, withPostgres } from './postgres-errors';
import type { PrincipalsRepository } from './principals-repository';

// Table `api_keys` (migration 20261201000200): a key's public prefix, its HMAC under the pepper
// (never the key), scopes, expiry, revocation and last use. Reads go to the primary: a key created
// a moment ago must work at once, and the authentication layer caches what it verified; a
// revocation is announced to every instance's cache on commit (access-changes.ts).

interface ApiKeyRow {
  id: string;
  principal_id: string;
  name: string | null;
  prefix: string;
  hash: Buffer;
  scopes: string[];
  created_at: Date;
  expires_at: Date | null;
  revoked_at: Date | null;
  last_used_at: Date | null;
}

export class ApiKeysRepository implements ApiKeyStore {
  constructor(
    private readonly db: Database,
    private readonly principals: PrincipalsRepository,
  ) {}

  create(input: Parameters<ApiKeyStore['create']>[0]): Promise<ApiKeyInfo> {
    return withPostgres(async () => {
      const [row] = await this.db
        .primary<ApiKeyRow>('api_keys')
        .insert({
          principal_id: input.principalId,
          name: input.name,
          prefix: input.prefix,
          hash: input.hash,
          scopes: [...input.scopes],
          expires_at: input.expiresAt,
        })
        .returning('*');
      return toKeyInfo(row as ApiKeyRow);
    });
  }

  findByPrefix(prefix: string): Promise<StoredApiKey | undefined> {
    return withPostgres(async () => {
      const row = (await this.db.primary<ApiKeyRow>('api_keys').where({ prefix }).first()) as
        ApiKeyRow | undefined;
      if (!row) return undefined;
      const principal = await this.principals.get(row.principal_id);
      if (!principal) return undefined;
      return { ...toKeyInfo(row), hash: row.hash, principal };
    });
  }

  get(id: string): Promise<ApiKeyInfo | undefined> {
    return withPostgres(async () => {
      if (!isUuid(id)) return undefined;
      const row = (await this.db.primary<ApiKeyRow>('api_keys').where({ id }).first()) as
        ApiKeyRow | undefined;
      return row ? toKeyInfo(row) : undefined;
    });
  }

  listFor(principalId: string): Promise<ApiKeyInfo[]> {
    return withPostgres(async () => {
      if (!isUuid(principalId)) return [];
      const rows = (await this.db
        .primary<ApiKeyRow>('api_keys')
        .where({ principal_id: principalId })
        .orderBy('created_at')) as ApiKeyRow[];
      return rows.map(toKeyInfo);
    });
  }

  revoke(id: string): Promise<boolean> {
    return withPostgres(async () => {
      if (!isUuid(id)) return false;
      return this.db.transaction(async (trx) => {
        const revoked = (await trx('api_keys')
          .where({ id })
          .whereNull('revoked_at')
          .update({ revoked_at: trx.fn.now() })
          .returning('principal_id')) as { principal_id: string }[];
        // Every instance drops the key from its cache the moment this commits.
        for (const r of revoked) await notifyAccessChange(trx, r.principal_id);
        return revoked.length > 0;
      });
    });
  }

  touch(ids: readonly string[], at: Date): Promise<void> {
    return withPostgres(async () => {
      if (ids.length === 0) return;
      await this.db
        .primary('api_keys')
        .whereIn('id', [...ids])
        .update({ last_used_at: at });
    });
  }
}

function toKeyInfo(row: ApiKeyRow): ApiKeyInfo {
  return {
    id: row.id,
    principalId: row.principal_id,
    name: row.name,
    prefix: row.prefix,
    scopes: row.scopes as ApiKeyScope[],
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
    lastUsedAt: row.last_used_at,
  };
}
