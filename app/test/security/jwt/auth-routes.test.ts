import assert from 'node:assert/strict';
import { buildOpenApiDocument } from '../../../src/http/api-route';
import { authRoutes } from '../../../src/http/routes/auth-routes';
import { loadJose } from '../../../src/security/jwt/jose';
import { ephemeralKeys, type SigningKeySource } from '../../../src/security/jwt/key-directory';
import type { TokenPair } from '../../../src/security/jwt/token-sessions';
import { RedisTokenDenylist } from '../../../src/stores/tokens/redis-token-denylist';
import { requireEnv } from '../../stores/postgres/test-database';
import {
  settings,
  startTokenDatabase,
  startTokenHarness,
  tokenStack,
  type TokenDatabase,
  type TokenStack,
} from './jwt-fixtures';

// The token endpoints over HTTP, mounted through defineRoute as the service mounts them, with the
// real Postgres and Redis behind them. `X-Test-Principal` stands for an API key authn accepted.

describe('token endpoints (HTTP)', function () {
  this.timeout(30_000);
  let db: TokenDatabase;
  let keys: SigningKeySource;
  let denylist: RedisTokenDenylist;
  let stack: TokenStack;
  let harness: { url: string; close(): Promise<void> };

  before(async () => {
    db = await startTokenDatabase('jwt_routes');
    keys = await ephemeralKeys();
    denylist = new RedisTokenDenylist(requireEnv('REDIS_URL'), {
      keyPrefix: `test:jwt-routes:${process.pid}:${Date.now()}:`,
    });
    await denylist.waitUntilReady(5_000);
    stack = tokenStack({ keys, denylist, db });
    stack.principals.add('alice');
    harness = await startTokenHarness(stack, keys);
  });
  after(async () => {
    await harness?.close();
    await denylist?.close();
    await db?.close();
  });

  const post = (path: string, init: { headers?: Record<string, string>; body?: unknown } = {}) =>
    fetch(`${harness.url}${path}`, {
      method: 'POST',
      headers: {
        ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...init.headers,
      },
      body:
        init.body === undefined
          ? undefined
          : typeof init.body === 'string'
            ? init.body
            : JSON.stringify(init.body),
    });
  const issue = async (): Promise<TokenPair> => {
    const res = await post('/v1/auth/token', { headers: { 'x-test-principal': 'alice' } });
    assert.equal(res.status, 200);
    return (await res.json()) as TokenPair;
  };
  const whoami = (accessToken: string) =>
    fetch(`${harness.url}/v1/whoami`, { headers: { authorization: `Bearer ${accessToken}` } });
  const isProblem = async (res: Response, status: number) => {
    assert.equal(res.status, status);
    assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
    const body = (await res.json()) as { status: number };
    assert.equal(body.status, status);
  };

  it('POST /v1/auth/token exchanges the API key for a pair nobody may cache', async () => {
    const res = await post('/v1/auth/token', { headers: { 'x-test-principal': 'alice' } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    const pair = (await res.json()) as TokenPair;
    assert.deepEqual(Object.keys(pair).sort(), [
      'accessToken',
      'expiresIn',
      'refreshExpiresIn',
      'refreshToken',
      'tokenType',
    ]);
    const me = await whoami(pair.accessToken);
    assert.equal(me.status, 200);
    assert.deepEqual(((await me.json()) as { id: string }).id, 'alice');
  });

  it('POST /v1/auth/token: 401 unauthenticated, 403 for a JWT (a session never mints another)', async () => {
    const anonymous = await post('/v1/auth/token');
    assert.equal(anonymous.headers.get('www-authenticate'), 'Bearer');
    await isProblem(anonymous, 401);
    const pair = await issue();
    await isProblem(
      await post('/v1/auth/token', { headers: { authorization: `Bearer ${pair.accessToken}` } }),
      403,
    );
  });

  it('POST /v1/auth/refresh rotates; a reused, unknown or malformed token is one and the same 401', async () => {
    const pair = await issue();
    const res = await post('/v1/auth/refresh', { body: { refreshToken: pair.refreshToken } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    const next = (await res.json()) as TokenPair;
    assert.equal((await whoami(next.accessToken)).status, 200);

    const bodies: string[] = [];
    for (const refreshToken of [pair.refreshToken, `rt_${'x'.repeat(43)}`, 'garbage']) {
      const refused = await post('/v1/auth/refresh', { body: { refreshToken } });
      assert.equal(refused.status, 401);
      const { instance: _instance, ...body } = (await refused.json()) as Record<string, unknown>;
      bodies.push(JSON.stringify(body));
    }
    assert.equal(new Set(bodies).size, 1, 'nothing tells a reused token from a made-up one');
    // The reuse above ended the family.
    assert.equal((await whoami(next.accessToken)).status, 401);
  });

  it('refuses bad refresh bodies with 4xx problems, never a 500', async () => {
    for (const body of [
      {},
      { refreshToken: 42 },
      { refreshToken: 'a', extra: 1 },
      { refreshToken: '' },
      '{"refreshToken":',
      '[]',
    ])
      await isProblem(await post('/v1/auth/refresh', { body }), 400);
    await isProblem(
      await post('/v1/auth/refresh', { body: { refreshToken: 'x'.repeat(5000) } }),
      400,
    );
    // Just too long, in astral characters escaped to ASCII (how Python's json sends them): still
    // the validation problem it is, not a body-size refusal.
    await isProblem(
      await post('/v1/auth/refresh', {
        body: `{"refreshToken": "${'\\ud83d\\ude00'.repeat(4097)}"}`,
      }),
      400,
    );
    await isProblem(
      await post('/v1/auth/refresh', { body: { refreshToken: 'x'.repeat(100_000) } }),
      413,
    );
    const form = await fetch(`${harness.url}/v1/auth/refresh`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'refreshToken=x',
    });
    await isProblem(form, 415);
  });

  it('POST /v1/auth/revoke with no token logs out the access token presented', async () => {
    const pair = await issue();
    const res = await post('/v1/auth/revoke', {
      headers: { authorization: `Bearer ${pair.accessToken}` },
      body: {},
    });
    assert.equal(res.status, 204);
    assert.equal((await whoami(pair.accessToken)).status, 401);
    // Its refresh token is a separate credential: revoking it ends the family.
    const other = await issue();
    assert.equal(
      (
        await post('/v1/auth/revoke', {
          headers: { 'x-test-principal': 'alice' },
          body: { token: other.refreshToken },
        })
      ).status,
      204,
    );
    await isProblem(
      await post('/v1/auth/refresh', { body: { refreshToken: other.refreshToken } }),
      401,
    );
    await isProblem(await post('/v1/auth/revoke', { body: {} }), 401);
  });

  it('GET /.well-known/jwks.json publishes public keys that verify the issued tokens', async () => {
    const res = await fetch(`${harness.url}/.well-known/jwks.json`);
    assert.equal(res.status, 200);
    const jwks = (await res.json()) as { keys: Record<string, string>[] };
    assert.equal(jwks.keys.length, 1);
    const [jwk] = jwks.keys;
    assert.deepEqual(Object.keys(jwk!).sort(), ['alg', 'crv', 'kid', 'kty', 'use', 'x']);
    assert.equal(jwk!.use, 'sig');
    assert.equal(jwk!.alg, 'EdDSA');
    // What an outside verifier would do with it.
    const { createLocalJWKSet, jwtVerify } = await loadJose();
    const pair = await issue();
    const { payload } = await jwtVerify(pair.accessToken, createLocalJWKSet(jwks as never), {
      issuer: settings.issuer,
      audience: settings.audience,
    });
    assert.equal(payload.sub, 'alice');
  });

  it('describes every token operation in the OpenAPI document', () => {
    const doc = buildOpenApiDocument(
      authRoutes({ sessions: stack.sessions, keys: () => keys.current() }),
      {
        title: 't',
        version: '0',
      },
    ) as unknown as {
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    };
    assert.deepEqual(Object.keys(doc.paths).sort(), [
      '/.well-known/jwks.json',
      '/v1/auth/refresh',
      '/v1/auth/revoke',
      '/v1/auth/token',
    ]);
    assert.ok(doc.paths['/v1/auth/refresh']!.post!.responses['401']);
    const routes = authRoutes({ sessions: stack.sessions, keys: () => keys.current() });
    assert.deepEqual(
      routes.filter((r) => r.public).map((r) => r.operationId),
      ['refreshToken', 'getJwks'],
      'only the refresh and the JWKS are reachable without a credential',
    );
  });
});
