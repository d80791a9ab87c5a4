import type { Knex } from 'knex';
import type { CollectionRole } from '../../domain/principal';
import type {
  LiveAccessTokens,
  NewRefreshToken,
  RefreshTokenRecord,
  RefreshTokenStore,
  RefreshTokenSuccessor,
  RefreshTokenUse,
} from '../../domain/tokens';
import type { Database } from './database';
import { withPostgres } from './postgres-errors';

// Table `refresh_tokens` (migration 20261201000300). Always the primary: a token just issued must be
// usable at once, and rotation is a write.

interface Row {
  id: string;
  family_id: string;
  principal_id: string;
  scope: CollectionRole | null;
  expires_at: Date;
  used_at: Date | null;
  revoked_at: Date | null;
  token_hash: Buffer;
}

const returned = ['id', 'family_id', 'principal_id', 'scope', 'expires_at'] as const;

const rowOf = (token: NewRefreshToken) => ({
  family_id: token.familyId,
  principal_id: token.principalId,
  scope: token.scope,
  token_hash: token.tokenHash,
  expires_at: token.expiresAt,
  access_jti: token.accessJti,
  access_expires_at: token.accessExpiresAt,
});

const toRecord = (r: Row): RefreshTokenRecord => ({
  id: r.id,
  familyId: r.family_id,
  principalId: r.principal_id,
  scope: r.scope,
  expiresAt: r.expires_at,
});

export class RefreshTokensRepository implements RefreshTokenStore {
  constructor(private readonly db: Database) {}

  insert(token: NewRefreshToken): Promise<RefreshTokenRecord> {
    return withPostgres(async () => {
      const [row] = await this.db
        .primary<Row>('refresh_tokens')
        .insert(rowOf(token))
        .returning(returned);
      return toRecord(row as Row);
    });
  }

  rotate(
    tokenHash: Buffer,
    now: Date,
    successor: (used: RefreshTokenRecord) => Promise<RefreshTokenSuccessor | null>,
  ): Promise<RefreshTokenUse> {
    return withPostgres(() =>
      this.db.transaction(async (trx): Promise<RefreshTokenUse> => {
        // The conditional UPDATE is the race's referee: a concurrent use of the same token waits for
        // this row lock, then re-checks `used_at IS NULL` against the committed row and matches
        // nothing, so exactly one caller rotates.
        const [used] = (await trx<Row>('refresh_tokens')
          .update({ used_at: now })
          .where({ token_hash: tokenHash })
          .whereNull('used_at')
          .whereNull('revoked_at')
          .where('expires_at', '>', now)
          .returning(returned)) as Row[];
        if (used) {
          const token = toRecord(used);
          const next = await successor(token);
          if (!next) {
            const liveAccessTokens = await revokeFamily(trx, token.familyId, now);
            return { outcome: 'ended', token, liveAccessTokens };
          }
          const [inserted] = (await trx<Row>('refresh_tokens')
            .insert(
              rowOf({
                ...next,
                familyId: token.familyId,
                principalId: token.principalId,
                scope: token.scope,
              }),
            )
            .returning(returned)) as Row[];
          return { outcome: 'rotated', token, next: toRecord(inserted!) };
        }

        const [found] = (await trx<Row>('refresh_tokens')
          .select(...returned, 'used_at', 'revoked_at')
          .where({ token_hash: tokenHash })) as Row[];
        // Reuse is a used token presented again while its family still stands; a revoked family
        // has been dealt with already, and an expired token is simply refused.
        if (!found || found.used_at === null || found.revoked_at !== null)
          return { outcome: 'invalid' };
        const liveAccessTokens = await revokeFamily(trx, found.family_id, now);
        return { outcome: 'reused', token: toRecord(found), liveAccessTokens };
      }),
    );
  }

  revokeFamilyOf(
    tokenHash: Buffer,
    principalId: string | null,
  ): ReturnType<RefreshTokenStore['revokeFamilyOf']> {
    return withPostgres(() =>
      this.db.transaction(async (trx) => {
        const [found] = (await trx<Row>('refresh_tokens')
          .select('family_id', 'principal_id')
          .where({ token_hash: tokenHash })) as Row[];
        if (!found || (principalId !== null && found.principal_id !== principalId)) return null;
        const liveAccessTokens = await revokeFamily(trx, found.family_id, new Date());
        return { familyId: found.family_id, principalId: found.principal_id, liveAccessTokens };
      }),
    );
  }

  /** Drops rows whose token expired before `before`: they can neither be used nor reused. */
  purgeExpired(before: Date): Promise<number> {
    return withPostgres(() =>
      this.db.primary('refresh_tokens').where('expires_at', '<', before).delete(),
    );
  }
}

async function revokeFamily(
  trx: Knex.Transaction,
  familyId: string,
  now: Date,
): Promise<LiveAccessTokens> {
  await trx('refresh_tokens')
    .update({ revoked_at: now })
    .where({ family_id: familyId })
    .whereNull('revoked_at');
  const live = (await trx('refresh_tokens')
    .select('access_jti', 'access_expires_at')
    .where({ family_id: familyId })
    .where('access_expires_at', '>', now)) as { access_jti: string; access_expires_at: Date }[];
  return live.map((r) => ({ jti: r.access_jti, expiresAt: r.access_expires_at }));
}
