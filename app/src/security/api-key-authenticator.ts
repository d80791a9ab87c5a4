import { timingSafeEqual } from 'node:crypto';
import { scopeRole, type ApiKeyStore, type StoredApiKey } from '../domain/access';
import type { CollectionRole, Principal } from '../domain/principal';
import { apiKeyPrefix, type ApiKeyHasher } from './api-key-format';

// Turns a presented API key into a Principal. A verified key's row and its principal (roles
// included) are kept in memory for at most `cacheTtlMs`, so the hot path costs no database round
// trip. The entry also keeps the secret that matched its hash: a request presenting the same bytes
// is compared with it in constant time instead of paying another HMAC, and any other secret is
// hashed and compared as before, so a cached entry never lets a wrong secret through. The secret
// lives no longer than its entry (the TTL, or an invalidation), like the requests that carry it.
//
// Revocation bound: a key revoked, a principal disabled or a role removed counts here at once
// (invalidate()): through this process directly, through any other instance or the CLI when its
// access change notice arrives (stores/postgres/access-changes.ts, on commit). Should the notice be
// lost with the listening connection, within `cacheTtlMs` (AUTH_CACHE_TTL_MS, 5 s by default),
// when the entry is read again from the primary. Roles granted elsewhere count at once: the use
// cases re-read a role from the primary before denying.

const roleRank: Record<CollectionRole, number> = { reader: 1, writer: 2, admin: 3 };

export type KeyRejection =
  'malformed' | 'unknown' | 'mismatch' | 'revoked' | 'expired' | 'disabled';

export type KeyVerdict =
  | { readonly ok: true; readonly principal: Principal }
  | { readonly ok: false; readonly reason: KeyRejection; readonly keyId?: string };

interface Entry {
  readonly key: StoredApiKey;
  readonly principal: Principal;
  readonly fetchedAt: number;
  /** The presented secret that matched `key.hash`, once one did. */
  verified?: Buffer;
}

export interface ApiKeyAuthenticatorOptions {
  readonly keys: Pick<ApiKeyStore, 'findByPrefix' | 'touch'>;
  readonly hasher: ApiKeyHasher;
  /** Longest life of a verified key in memory; 0 reads the database on every request. */
  readonly cacheTtlMs: number;
  /** last_used_at is written at most this often per key and process. */
  readonly touchIntervalMs?: number;
  readonly onTouchError?: (err: unknown) => void;
  readonly now?: () => number;
  readonly maxEntries?: number;
}

export class ApiKeyAuthenticator {
  private readonly entries = new Map<string, Entry>();
  private readonly inFlight = new Map<string, Promise<StoredApiKey | undefined>>();
  private readonly touched = new Map<string, number>();
  private epoch = 0;
  private readonly now: () => number;

  constructor(private readonly options: ApiKeyAuthenticatorOptions) {
    this.now = options.now ?? Date.now;
  }

  async verify(presented: string): Promise<KeyVerdict> {
    const prefix = apiKeyPrefix(presented);
    if (!prefix) return { ok: false, reason: 'malformed' };
    const now = this.now();
    let entry = this.entries.get(prefix);
    if (!entry || now - entry.fetchedAt >= this.options.cacheTtlMs) {
      entry = await this.load(prefix);
      if (!entry) return { ok: false, reason: 'unknown' };
    }
    const { key } = entry;
    if (!this.matches(presented, entry)) return { ok: false, reason: 'mismatch', keyId: key.id };
    if (key.revokedAt) return { ok: false, reason: 'revoked', keyId: key.id };
    if (key.expiresAt && key.expiresAt.getTime() <= now) {
      return { ok: false, reason: 'expired', keyId: key.id };
    }
    if (key.principal.disabled) return { ok: false, reason: 'disabled', keyId: key.id };
    this.touch(key.id, now);
    return { ok: true, principal: entry.principal };
  }

  private matches(presented: string, entry: Entry): boolean {
    const bytes = Buffer.from(presented, 'utf8');
    const { verified } = entry;
    if (verified && verified.length === bytes.length && timingSafeEqual(verified, bytes)) {
      return true;
    }
    if (!this.options.hasher.matches(presented, entry.key.hash)) return false;
    entry.verified = bytes;
    return true;
  }

  /** A principal's keys or roles changed (null: anyone's, e.g. a collection was deleted). */
  invalidate(principalId: string | null): void {
    this.epoch++;
    this.inFlight.clear();
    if (principalId === null) {
      this.entries.clear();
      return;
    }
    for (const [prefix, entry] of this.entries) {
      if (entry.key.principalId === principalId) this.entries.delete(prefix);
    }
  }

  private async load(prefix: string): Promise<Entry | undefined> {
    const epoch = this.epoch;
    const fetchedAt = this.now();
    let pending = this.inFlight.get(prefix);
    if (!pending) {
      pending = this.options.keys.findByPrefix(prefix).finally(() => {
        if (this.inFlight.get(prefix) === pending) this.inFlight.delete(prefix);
      });
      this.inFlight.set(prefix, pending);
    }
    const key = await pending;
    if (!key) return undefined;
    const entry: Entry = { key, principal: toPrincipal(key), fetchedAt };
    // A lookup that raced an invalidation may predate it: use it once, never keep it.
    if (epoch === this.epoch && this.options.cacheTtlMs > 0) {
      if (this.entries.size >= (this.options.maxEntries ?? 10_000)) this.entries.clear();
      this.entries.set(prefix, entry);
    }
    return entry;
  }

  private touch(keyId: string, now: number): void {
    const last = this.touched.get(keyId);
    if (last !== undefined && now - last < (this.options.touchIntervalMs ?? 60_000)) return;
    this.touched.set(keyId, now);
    if (this.touched.size > 100_000) this.touched.clear();
    this.options.keys
      .touch([keyId], new Date(now))
      .catch((err: unknown) => this.options.onTouchError?.(err));
  }
}

function toPrincipal(key: StoredApiKey): Principal {
  const { principal } = key;
  let scope: CollectionRole | undefined;
  for (const s of key.scopes) {
    const role = scopeRole[s];
    if (role && (!scope || roleRank[role] > roleRank[scope])) scope = role;
  }
  return {
    id: principal.id,
    superAdmin: principal.superAdmin,
    roles: principal.roles,
    roleKeys: principal.roleKeys,
    tier: principal.tier,
    credential: { kind: 'api-key', id: key.id },
    // A key without a known scope can do nothing beyond reading.
    scope: scope ?? 'reader',
  };
}
