import type { RequestHandler } from 'express';
import type { Config } from '../config';
import type { AccessChanged } from '../domain/access';
import type { AuditLog } from '../domain/audit';
import type { Logger } from '../observability/logger';
import { ApiKeyAuthenticator } from '../security/api-key-authenticator';
import { ApiKeyHasher, apiKeyPepper } from '../security/api-key-format';
import { authenticate } from '../security/authenticate';
import type { BearerTokenVerifier } from '../security/bearer-token-verifier';
import { FailureAudit } from '../security/failure-audit';
import type { DataLayer } from './data-layer';

export interface Security {
  readonly hasher: ApiKeyHasher;
  readonly apiKeys: ApiKeyAuthenticator;
  /** The authentication middleware for /v1. */
  readonly authenticate: RequestHandler;
  /** Use cases call it when keys or roles change: this process's caches drop them at once. */
  readonly changed: AccessChanged;
}

/**
 * Authentication: API keys verified against the primary and cached for AUTH_CACHE_TTL_MS, bearer
 * tokens through `bearer` when one is configured (security/jwt/), failures audited at a bounded
 * rate. Production refuses to start without API_KEY_PEPPER.
 */
export function createSecurity(
  config: Config,
  deps: { data: DataLayer; audit: AuditLog; logger: Logger; bearer?: BearerTokenVerifier },
): Security {
  const { data, audit, logger } = deps;
  const hasher = new ApiKeyHasher(apiKeyPepper(config));
  if (!config.API_KEY_PEPPER) {
    logger.warn('API_KEY_PEPPER is unset: API keys are hashed with the development pepper');
  }
  const apiKeys = new ApiKeyAuthenticator({
    keys: data.apiKeys,
    hasher,
    cacheTtlMs: config.AUTH_CACHE_TTL_MS,
    onTouchError: (err) => logger.debug('recording an API key use failed', { err }),
  });
  const failures = new FailureAudit(audit, {
    maxPerMinute: config.AUTH_FAILURE_AUDIT_PER_MINUTE,
    onError: (err) =>
      logger.warn('audit event not recorded', { err, type: 'authentication.failed' }),
  });
  return {
    hasher,
    apiKeys,
    authenticate: authenticate({ apiKeys, bearer: deps.bearer, failures }),
    changed: (principalId) => apiKeys.invalidate(principalId),
  };
}
