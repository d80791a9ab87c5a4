import type { CollectionRole, PrincipalRecord } from './principal';
import type { LiveAccessTokens } from './tokens';

// What authorization and credential management need from storage (Postgres implements them in
// stores/postgres/principals-repository.ts), declared on the domain's side like ports.ts.

/** API key scopes: each caps what the key may do at a collection role (highest scope wins). */
export const apiKeyScopes = ['read', 'write', 'admin'] as const;
export type ApiKeyScope = (typeof apiKeyScopes)[number];

export const scopeRole: Record<ApiKeyScope, CollectionRole> = {
  read: 'reader',
  write: 'writer',
  admin: 'admin',
};

/** An API key as listed: never the key itself, nor its hash. */
export interface ApiKeyInfo {
  readonly id: string;
  readonly principalId: string;
  readonly name: string | null;
  readonly prefix: string;
  readonly scopes: readonly ApiKeyScope[];
  readonly createdAt: Date;
  readonly expiresAt: Date | null;
  readonly revokedAt: Date | null;
  readonly lastUsedAt: Date | null;
}

/** A key found by its prefix, with what verifying and authorizing it needs. */
export interface StoredApiKey extends ApiKeyInfo {
  /** HMAC-SHA-256 of the whole key under the pepper. */
  readonly hash: Buffer;
  readonly principal: PrincipalRecord & { readonly disabled: boolean };
}

export interface NewPrincipal {
  readonly name: string;
  readonly superAdmin?: boolean;
  readonly tier?: string;
}

export interface StoredPrincipal extends PrincipalRecord {
  readonly name: string;
  readonly disabled: boolean;
  readonly createdAt: Date;
}

export interface PrincipalStore {
  /** @throws ConflictError when the name is taken. */
  create(input: NewPrincipal): Promise<StoredPrincipal>;
  get(id: string): Promise<StoredPrincipal | undefined>;
  getByName(name: string): Promise<StoredPrincipal | undefined>;
  count(): Promise<number>;
  /**
   * Disables (or enables) a principal, in one transaction that also, when disabling, revokes every
   * refresh token family of it, and announces the change to every instance on commit.
   * Undefined when there is no such principal.
   * @throws ConflictError when it would leave no enabled super admin.
   */
  setDisabled(id: string, disabled: boolean): Promise<PrincipalDisabling | undefined>;
}

export interface PrincipalDisabling {
  /** The principal as it is now. */
  readonly principal: StoredPrincipal;
  /** False when it already was in that state (nothing was done). */
  readonly changed: boolean;
  /** Refresh token families this revoked. */
  readonly familiesRevoked: number;
  /** Access tokens issued with those families that have not expired yet: for the denylist. */
  readonly liveAccessTokens: LiveAccessTokens;
}

export interface ApiKeyStore {
  create(input: {
    principalId: string;
    name: string | null;
    prefix: string;
    hash: Buffer;
    scopes: readonly ApiKeyScope[];
    expiresAt: Date | null;
  }): Promise<ApiKeyInfo>;
  /** From the primary: a key created a moment ago must work at once. */
  findByPrefix(prefix: string): Promise<StoredApiKey | undefined>;
  get(id: string): Promise<ApiKeyInfo | undefined>;
  listFor(principalId: string): Promise<ApiKeyInfo[]>;
  /** Returns whether a key not yet revoked was revoked. */
  revoke(id: string): Promise<boolean>;
  /** Best effort, batched by the caller: when the key was last used. */
  touch(ids: readonly string[], at: Date): Promise<void>;
}

export interface CollectionMember {
  readonly principalId: string;
  readonly name: string;
  readonly role: CollectionRole;
}

export interface RoleStore {
  /** The principal's role on the current incarnation of collection `collectionId`, from the primary. */
  roleOn(
    principalId: string,
    collectionId: string,
  ): Promise<{ role: CollectionRole; collectionKey: string } | undefined>;
  /** Sets (or with null removes) a role on an incarnation; returns whether anything changed. */
  setRole(
    principalId: string,
    collectionKey: string,
    role: CollectionRole | null,
  ): Promise<boolean>;
  members(collectionKey: string): Promise<CollectionMember[]>;
}

/** Creates API keys; the format and the keyed hash live in app/src/security. */
export interface ApiKeyMinter {
  mint(): { readonly key: string; readonly prefix: string; readonly hash: Buffer };
}

/** Tells the credential caches that a principal's keys or roles changed (or everyone's: null). */
export type AccessChanged = (principalId: string | null) => void;
