import type { Request } from 'express';
import { z } from 'zod';
import type { Principal } from '../../domain/principal';
import type { TokenSessions } from '../../security/jwt/token-sessions';
import { InvalidTokenError } from '../../security/jwt/access-tokens';
import type { KeyRing } from '../../security/jwt/signing-keys';
import { defineRoute, type ApiRoute } from '../api-route';
import { tokenBodyLimit } from '../body-limits';
import { HttpProblem } from '../problem';

// Token endpoints. `POST /v1/auth/token` exchanges the API key that authenticated the request for
// an access + refresh pair; `POST /v1/auth/refresh` is public (its body is the credential);
// `POST /v1/auth/revoke` revokes an access or refresh token of the caller's; the JWKS is public.

export interface TokenEndpoints {
  readonly sessions: TokenSessions;
  /** The signing keys now in force: what the JWKS publishes. */
  readonly keys: () => KeyRing;
}

const tokenPairSchema = z
  .object({
    accessToken: z.string(),
    tokenType: z.literal('Bearer'),
    expiresIn: z.number().int().openapi({ description: 'Seconds the access token is valid for.' }),
    refreshToken: z.string(),
    refreshExpiresIn: z.number().int(),
  })
  .openapi('TokenPair');

// Tokens are visible ASCII (base64url and dots; `rt_` and base64url): anything else is refused as
// invalid input, and at most 2 bytes of JSON per character keeps an overlong one a 400, not a 413.
const tokenString = z
  .string()
  .min(1)
  .max(4096)
  .regex(/^[\x21-\x7e]+$/, 'visible ASCII characters only');

const refreshBody = z.object({ refreshToken: tokenString }).strict().openapi('RefreshRequest');

const revokeBody = z
  .object({
    token: tokenString.optional().openapi({
      description:
        'An access or refresh token of the caller. Absent: the access token authenticating this request.',
    }),
  })
  .strict()
  .openapi('RevokeRequest');

const jwksSchema = z
  .object({
    keys: z.array(
      z
        .object({ kty: z.string(), kid: z.string(), alg: z.string(), use: z.literal('sig') })
        .catchall(z.string()),
    ),
  })
  .openapi('JsonWebKeySet');

/** No cache may keep a token response (RFC 6749 §5.1). */
const noStore = { 'Cache-Control': 'no-store', Pragma: 'no-cache' };

function unauthorized(req: Request, detail: string): HttpProblem {
  req.res?.setHeader('WWW-Authenticate', 'Bearer');
  return new HttpProblem(401, 'unauthorized', 'Unauthorized', detail);
}

/** The principal the authentication middleware set (absent only if the route was left unguarded). */
function principalOf(req: Request): Principal {
  const principal = req.res?.locals.principal as Principal | undefined;
  if (!principal) throw unauthorized(req, 'Authenticate with an API key or an access token.');
  return principal;
}

function originOf(req: Request) {
  const requestId = req.res?.getHeader('X-Request-Id');
  return {
    ...(req.ip ? { sourceIp: req.ip } : {}),
    ...(typeof requestId === 'string' ? { requestId } : {}),
  };
}

function bearerOf(req: Request): string | undefined {
  const match = /^Bearer[ ]+([^ ]+)[ ]*$/i.exec(req.get('authorization') ?? '');
  return match?.[1];
}

export function authRoutes(tokens: TokenEndpoints): ApiRoute[] {
  const { sessions } = tokens;
  return [
    defineRoute({
      method: 'post',
      path: '/v1/auth/token',
      operationId: 'issueToken',
      summary: 'Exchange the API key authenticating the request for an access and a refresh token',
      tags: ['auth'],
      responses: { 200: { description: 'A new token pair.', schema: tokenPairSchema } },
      problems: [401, 403, 503],
      async handle(_input, req) {
        const principal = principalOf(req);
        // A JWT may not mint a new session: sessions last only as long as their refresh tokens.
        if (principal.credential.kind !== 'api-key')
          throw new HttpProblem(
            403,
            'forbidden',
            'Forbidden',
            'Tokens are issued for an API key only.',
          );
        const pair = await sessions.issue(principal, originOf(req));
        return { status: 200, body: pair, headers: noStore };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/auth/refresh',
      operationId: 'refreshToken',
      summary: 'Exchange a refresh token for a new pair (the refresh token is then used up)',
      tags: ['auth'],
      public: true,
      body: refreshBody,
      maxBodyBytes: tokenBodyLimit,
      responses: { 200: { description: 'A new token pair.', schema: tokenPairSchema } },
      problems: [401, 503],
      async handle({ body }, req) {
        try {
          const pair = await sessions.refresh(body.refreshToken, originOf(req));
          return { status: 200, body: pair, headers: noStore };
        } catch (err) {
          // One answer for unknown, expired, revoked and reused tokens.
          if (err instanceof InvalidTokenError)
            throw unauthorized(req, 'The refresh token is not valid.');
          throw err;
        }
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/auth/revoke',
      operationId: 'revokeToken',
      summary: 'Revoke an access or refresh token of the caller (logout)',
      tags: ['auth'],
      body: revokeBody,
      maxBodyBytes: tokenBodyLimit,
      responses: { 204: { description: 'Revoked, or not a token of the caller (RFC 7009).' } },
      problems: [401, 503],
      async handle({ body }, req) {
        const principal = principalOf(req);
        const token =
          body.token ?? (principal.credential.kind === 'jwt' ? bearerOf(req) : undefined);
        if (token) await sessions.revoke(principal, token, originOf(req));
        return { status: 204 };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/.well-known/jwks.json',
      operationId: 'getJwks',
      summary: 'The public keys access tokens are signed with (JWKS)',
      tags: ['auth'],
      public: true,
      responses: { 200: { description: 'The JSON Web Key Set.', schema: jwksSchema } },
      async handle() {
        // Short-lived in caches: a key added to the directory must reach verifiers before it signs.
        return {
          status: 200,
          body: tokens.keys().jwks,
          headers: { 'Cache-Control': 'public, max-age=60' },
        };
      },
    }),
  ];
}
