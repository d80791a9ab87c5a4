import type { Config } from '../config';
import type { AuditLog } from '../domain/audit';
import type { PrincipalDirectory } from '../domain/principal';
import type { TokenDenylist } from '../domain/tokens';
import type { TokenEndpoints } from '../http/routes/auth-routes';
import type { Logger } from '../observability/logger';
import { AccessTokens, JwtVerifier } from '../security/jwt/access-tokens';
import { KeyBundle } from '../security/jwt/key-bundle';
import { ephemeralKeys, KeyDirectory, type SigningKeySource } from '../security/jwt/key-directory';
import { TokenSessions } from '../security/jwt/token-sessions';
import type { Database } from '../stores/postgres/database';
import { RefreshTokensRepository } from '../stores/postgres/refresh-tokens-repository';
import { MemoryTokenDenylist } from '../stores/tokens/memory-token-denylist';
import { RedisTokenDenylist } from '../stores/tokens/redis-token-denylist';
import type { Closers } from './closers';

export interface JwtLayer {
  /** For authn's middleware: bearer credentials that are not API keys. */
  readonly verifier: JwtVerifier;
  /** For the API routes (http/routes/auth-routes.ts). */
  readonly endpoints: TokenEndpoints;
  readonly accessTokens: AccessTokens;
  readonly keys: SigningKeySource;
  readonly denylist: TokenDenylist;
}

/**
 * JWT access and refresh tokens: the signing keys (JWT_SIGNING_KEYS_FILE or JWT_SIGNING_KEYS_DIR, or a
 * key generated at start outside production), the denylist (Redis when REDIS_URL is set, else this
 * process's memory), the refresh tokens in Postgres. Undefined in production without keys: no token
 * is issued or accepted there rather than one signed by a key nobody manages.
 */
export async function startJwt(
  config: Config,
  deps: {
    db: Database;
    principals: PrincipalDirectory;
    audit: AuditLog;
    logger: Logger;
    closers: Closers;
    /** How long the verifier reuses a resolved principal (0: none); see JwtVerifier. */
    principalCacheTtlMs?: number;
    /** Where denylist connection failures go: the dependency-state owner. */
    onRedisError?: (err: Error) => void;
  },
): Promise<JwtLayer | undefined> {
  const { logger, closers } = deps;
  let keys: SigningKeySource;
  const watchOptions = { pollIntervalMs: config.JWT_SIGNING_KEYS_POLL_MS, logger };
  if (config.JWT_SIGNING_KEYS_FILE) {
    keys = await KeyBundle.open(config.JWT_SIGNING_KEYS_FILE, watchOptions);
  } else if (config.JWT_SIGNING_KEYS_DIR) {
    keys = await KeyDirectory.open(config.JWT_SIGNING_KEYS_DIR, watchOptions);
  } else if (config.NODE_ENV === 'production') {
    logger.warn(
      'neither JWT_SIGNING_KEYS_FILE nor JWT_SIGNING_KEYS_DIR is set: no access tokens are issued or accepted',
    );
    return undefined;
  } else {
    keys = await ephemeralKeys();
    logger.info(
      'jwt signing key generated for this process only (set JWT_SIGNING_KEYS_DIR to keep one)',
      {
        signingKid: keys.current().signing.kid,
      },
    );
  }
  closers.push(() => keys.close());

  let denylist: TokenDenylist;
  if (config.REDIS_URL) {
    const redis = new RedisTokenDenylist(config.REDIS_URL, {
      onError: (err) => {
        logger.debug('token denylist redis connection error', { err });
        deps.onRedisError?.(err);
      },
    });
    await redis
      .waitUntilReady(2_000)
      .catch((err) => logger.warn('starting without the token denylist (redis)', { err }));
    denylist = redis;
  } else {
    denylist = new MemoryTokenDenylist();
  }
  closers.push(() => denylist.close());

  const accessTokens = new AccessTokens(keys, denylist, {
    issuer: config.JWT_ISSUER,
    audience: config.JWT_AUDIENCE,
    ttlSeconds: config.JWT_ACCESS_TTL_SECONDS,
  });
  const refreshTokens = new RefreshTokensRepository(deps.db);
  // Expired refresh tokens can be neither used nor reused: dropped hourly so the table stays the
  // size of the live sessions (every instance does it; the delete is idempotent).
  const purge = setInterval(() => {
    refreshTokens
      .purgeExpired(new Date())
      .catch((err) => logger.warn('purging expired refresh tokens failed', { err }));
  }, 3_600_000);
  purge.unref();
  closers.push(async () => clearInterval(purge));
  const sessions = new TokenSessions({
    accessTokens,
    refreshTokens,
    denylist,
    principals: deps.principals,
    audit: deps.audit,
    refreshTtlSeconds: config.JWT_REFRESH_TTL_SECONDS,
  });
  return {
    verifier: new JwtVerifier(accessTokens, deps.principals, deps.principalCacheTtlMs ?? 0),
    endpoints: { sessions, keys: () => keys.current() },
    accessTokens,
    keys,
    denylist,
  };
}
