import type { RequestHandler, Response } from 'express';
import type { Principal } from '../domain/principal';
import { HttpProblem, sendProblem } from '../http/problem';
import { currentRequestContext } from '../observability/request-context';
import type { ApiKeyAuthenticator } from './api-key-authenticator';
import { looksLikeApiKey } from './api-key-format';
import type { BearerTokenVerifier } from './bearer-token-verifier';
import type { FailureAudit } from './failure-audit';

// Authentication of every /v1 request: `Authorization: Bearer <credential>` (an API key, or a
// token the injected BearerTokenVerifier accepts: a JWT) or `X-API-Key: <key>`. A request it lets
// through carries its Principal in `res.locals.principal` (the rate limiter and the routes read
// it); any other gets the same 401 whatever was wrong (missing, malformed, unknown, wrong secret,
// revoked, expired, disabled), so a caller cannot probe which part of a credential was right.

const realm = 'rag-platform';
const bearerPattern = /^Bearer[ ]+([\x21-\x7e]{1,4096})[ ]*$/i;
/** Longest credential considered at all: anything longer is refused without work. */
const maxCredentialLength = 4096;

export interface AuthenticateOptions {
  readonly apiKeys: ApiKeyAuthenticator;
  /** JWTs (security/jwt/); absent: every bearer credential that is not an API key is refused. */
  readonly bearer?: BearerTokenVerifier;
  readonly failures: FailureAudit;
}

type Presented =
  | { readonly ok: true; readonly credential: string }
  | { readonly ok: false; readonly reason: 'missing' | 'malformed' };

function presented(authorization: string | undefined, apiKey: string | undefined): Presented {
  let fromAuthorization: string | undefined;
  if (authorization !== undefined) {
    const match = bearerPattern.exec(authorization);
    if (!match) return { ok: false, reason: 'malformed' };
    fromAuthorization = match[1];
  }
  if (apiKey !== undefined && (apiKey.length === 0 || apiKey.length > maxCredentialLength)) {
    return { ok: false, reason: 'malformed' };
  }
  // Two different credentials: which one would count is ambiguous, so neither does.
  if (fromAuthorization !== undefined && apiKey !== undefined && fromAuthorization !== apiKey) {
    return { ok: false, reason: 'malformed' };
  }
  const credential = fromAuthorization ?? apiKey;
  return credential === undefined ? { ok: false, reason: 'missing' } : { ok: true, credential };
}

export function unauthorized(res: Response, invalidToken: boolean): void {
  res.setHeader(
    'WWW-Authenticate',
    invalidToken ? `Bearer realm="${realm}", error="invalid_token"` : `Bearer realm="${realm}"`,
  );
  sendProblem(
    res,
    new HttpProblem(
      401,
      'unauthorized',
      'Authentication required',
      'Send a valid API key (Authorization: Bearer or X-API-Key) or access token.',
    ),
  );
}

export function authenticate(options: AuthenticateOptions): RequestHandler {
  return (req, res, next) => {
    const auth = req.headers.authorization;
    const key = req.headers['x-api-key'];
    const found = presented(auth, Array.isArray(key) ? '' : key);
    const fail = (reason: string, kind: string, keyId?: string) => {
      options.failures.failed({
        ...(keyId ? { target: keyId } : {}),
        detail: { reason, kind, method: req.method, path: req.path.slice(0, 200) },
        sourceIp: req.ip,
        requestId: currentRequestContext()?.requestId,
      });
      // Answered by rejectUnauthenticated, after the rate limiter has charged the client address.
      res.locals.authenticationFailure = { invalidToken: reason !== 'missing' };
      next();
    };
    if (!found.ok) return fail(found.reason, 'none');
    const { credential } = found;
    const verify = async (): Promise<void> => {
      if (looksLikeApiKey(credential)) {
        const verdict = await options.apiKeys.verify(credential);
        if (!verdict.ok) return fail(verdict.reason, 'api-key', verdict.keyId);
        return accept(verdict.principal);
      }
      if (!options.bearer) return fail('unsupported', 'bearer');
      const principal = await options.bearer.verify(credential);
      if (!principal) return fail('invalid', 'bearer');
      accept(principal);
    };
    const accept = (principal: Principal) => {
      res.locals.principal = principal;
      next();
    };
    verify().catch(next);
  };
}

/** The 401 for a request authentication refused (deferred past the rate limiter). */
export function rejectUnauthenticated(): RequestHandler {
  return (_req, res, next) => {
    const failure = res.locals.authenticationFailure as { invalidToken: boolean } | undefined;
    if (failure) return unauthorized(res, failure.invalidToken);
    next();
  };
}

/** Stands in for authentication where its cost is measured against its absence (benches only). */
export function fixedPrincipal(principal: Principal): RequestHandler {
  return (_req, res, next) => {
    res.locals.principal = principal;
    next();
  };
}
