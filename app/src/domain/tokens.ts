import type { CollectionRole } from './principal';

// Ports of the JWT session layer (app/src/security/jwt/): where refresh tokens and revoked access
// tokens live. Stores implement them (Postgres for refresh tokens, Redis or memory for the denylist).

/** A refresh token row as stored: only its hash, never the token. */
export interface RefreshTokenRecord {
  readonly id: string;
  /** Every token rotated from one sign-in shares its family; reuse of any of them revokes it. */
  readonly familyId: string;
  readonly principalId: string;
  /** The cap of the API key the family started from, kept by every token of it. */
  readonly scope: CollectionRole | null;
  readonly expiresAt: Date;
}

export interface NewRefreshToken {
  readonly familyId: string;
  readonly principalId: string;
  readonly scope: CollectionRole | null;
  /** SHA-256 of the opaque token (the token has 256 random bits, so no pepper is needed). */
  readonly tokenHash: Buffer;
  readonly expiresAt: Date;
  /** The access token issued with it, so revoking the family can deny it too. */
  readonly accessJti: string;
  readonly accessExpiresAt: Date;
}

/** Access tokens issued with a family's refresh tokens that have not expired yet. */
export type LiveAccessTokens = readonly { readonly jti: string; readonly expiresAt: Date }[];

/** What presenting a refresh token came to, decided in one transaction with marking it used. */
export type RefreshTokenUse =
  /** The token was live: it is now used and its successor (same family) is stored. */
  | {
      readonly outcome: 'rotated';
      readonly token: RefreshTokenRecord;
      readonly next: RefreshTokenRecord;
    }
  /** The token had been used before: its family is now revoked (reuse detection). */
  | {
      readonly outcome: 'reused';
      readonly token: RefreshTokenRecord;
      readonly liveAccessTokens: LiveAccessTokens;
    }
  /** The token was live but the caller refused a successor (its principal is gone): family revoked. */
  | {
      readonly outcome: 'ended';
      readonly token: RefreshTokenRecord;
      readonly liveAccessTokens: LiveAccessTokens;
    }
  /** Unknown, expired or already revoked: refused, nothing changes. */
  | { readonly outcome: 'invalid' };

/** The successor of a rotated token: its family and principal are the used token's. */
export type RefreshTokenSuccessor = Omit<NewRefreshToken, 'familyId' | 'principalId' | 'scope'>;

export interface RefreshTokenStore {
  insert(token: NewRefreshToken): Promise<RefreshTokenRecord>;
  /**
   * Marks the token with this hash used, if it is live, and stores the successor `successor` makes
   * (null: none, the family is revoked) in the same transaction, so a failure leaves the token
   * usable. Two concurrent calls with the same hash: exactly one rotates.
   */
  rotate(
    tokenHash: Buffer,
    now: Date,
    successor: (used: RefreshTokenRecord) => Promise<RefreshTokenSuccessor | null>,
  ): Promise<RefreshTokenUse>;
  /** Revokes the family of the token with this hash if `principalId` (null: anyone) owns it. */
  revokeFamilyOf(
    tokenHash: Buffer,
    principalId: string | null,
  ): Promise<{
    readonly familyId: string;
    readonly principalId: string;
    readonly liveAccessTokens: LiveAccessTokens;
  } | null>;
}

/** Access tokens revoked before their expiry, by `jti`; an entry lives until the token would expire. */
export interface TokenDenylist {
  readonly kind: 'redis' | 'memory';
  /** @throws DependencyUnavailableError when the store cannot be reached. */
  deny(jti: string, expiresAt: Date): Promise<void>;
  /** @throws DependencyUnavailableError when the store cannot be reached. */
  isDenied(jti: string): Promise<boolean>;
  close(): Promise<void>;
}
