// Who is calling, once authenticated (app/src/security/ turns a credential into one). Use cases take
// the principal as their first argument and decide access themselves (deny by default), so no route,
// batch job or future transport can reach a collection the principal holds no role on.

/** Roles per collection, weakest first: each one can do everything the one before it can. */
export const collectionRoles = ['reader', 'writer', 'admin'] as const;
export type CollectionRole = (typeof collectionRoles)[number];

export interface Principal {
  /** Stable id of the caller (not of the credential): the audit log's actor and the rate limit key. */
  readonly id: string;
  /** Platform-wide administrator: every collection, key and role management. */
  readonly superAdmin: boolean;
  /** The caller's role per collection id; a collection absent here does not exist for the caller. */
  readonly roles: Readonly<Record<string, CollectionRole>>;
  /** The credential this request presented (an API key id or a JWT `jti`): audit, revocation. */
  readonly credential: { readonly kind: 'api-key' | 'jwt'; readonly id: string };
  /** The rate-limit tier this caller belongs to (named in configuration). */
  readonly tier: string;
  /**
   * The most this credential may do, whatever the principal's roles (an API key's scopes); absent:
   * no cap. A `reader` credential of a collection's admin can only read it.
   */
  readonly scope?: CollectionRole;
  /**
   * The incarnation (collection key) each role of `roles` was granted on, when known: a role then
   * counts only on that incarnation, so a collection deleted and created again under the same id by
   * someone else never inherits its predecessor's members from a cached principal.
   */
  readonly roleKeys?: Readonly<Record<string, string>>;
}

/** Principals as stored, without the credential a request presents (nor its scope). */
export type PrincipalRecord = Omit<Principal, 'credential' | 'scope'>;

/** Where principals and their roles live (Postgres); JWT subjects and API keys both resolve here. */
export interface PrincipalDirectory {
  find(principalId: string): Promise<PrincipalRecord | undefined>;
}
