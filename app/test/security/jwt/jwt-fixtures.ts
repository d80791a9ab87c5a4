import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { trace } from '@opentelemetry/api';
import express from 'express';
import type { AuditEvent, AuditLog } from '../../../src/domain/audit';
import type { Principal, PrincipalDirectory, PrincipalRecord } from '../../../src/domain/principal';
import type { TokenDenylist } from '../../../src/domain/tokens';
import { mountRoutes } from '../../../src/http/api-route';
import { requestContext } from '../../../src/http/middleware/request-context';
import { HttpProblem, problemHandler } from '../../../src/http/problem';
import { authRoutes } from '../../../src/http/routes/auth-routes';
import { createLogger } from '../../../src/observability/logger';
import {
  AccessTokens,
  JwtVerifier,
  type AccessTokenSettings,
} from '../../../src/security/jwt/access-tokens';
import type { SigningKeySource } from '../../../src/security/jwt/key-directory';
import { TokenSessions } from '../../../src/security/jwt/token-sessions';
import { Database } from '../../../src/stores/postgres/database';
import { migrateLatest } from '../../../src/stores/postgres/migrations';
import { RefreshTokensRepository } from '../../../src/stores/postgres/refresh-tokens-repository';
import {
  createTestDatabase,
  testMetrics,
  type TestDatabase,
} from '../../stores/postgres/test-database';

// What the JWT suites share: the real refresh-token store on a private database, the ports whose
// stores are other helpers' (the audit log, the principal directory) as plain in-memory
// implementations, and an HTTP harness serving the token routes the way the service mounts them.

export const silentLogger = createLogger({ level: 'silent', service: 'jwt-test' });

/** Appends to an array: what the audit store would receive. */
export class RecordingAuditLog implements AuditLog {
  readonly events: AuditEvent[] = [];
  async record(event: AuditEvent): Promise<void> {
    this.events.push(event);
  }
  ofType(type: AuditEvent['type']): AuditEvent[] {
    return this.events.filter((e) => e.type === type);
  }
}

export class MapPrincipals implements PrincipalDirectory {
  readonly records = new Map<string, PrincipalRecord>();
  add(id: string): PrincipalRecord {
    const record: PrincipalRecord = { id, superAdmin: false, roles: {}, tier: 'default' };
    this.records.set(id, record);
    return record;
  }
  get(id: string): PrincipalRecord {
    return this.records.get(id)!;
  }
  async find(id: string): Promise<PrincipalRecord | undefined> {
    return this.records.get(id);
  }
}

/** A principal as authn's middleware sets it for an API key. */
export function apiKeyPrincipal(
  record: PrincipalRecord,
  extra: { scope?: 'reader' | 'writer' | 'admin'; superAdmin?: boolean } = {},
): Principal & { scope?: 'reader' | 'writer' | 'admin' } {
  return {
    ...record,
    ...(extra.superAdmin ? { superAdmin: true } : {}),
    credential: { kind: 'api-key', id: `key-${record.id}` },
    ...(extra.scope ? { scope: extra.scope } : {}),
  };
}

export const settings: AccessTokenSettings = {
  issuer: 'https://issuer.test',
  audience: 'rag-api-test',
  ttlSeconds: 900,
};

/** Writes a fresh Ed25519 private key as `<kid>.pem` (PKCS#8), as Vault Agent would render it. */
export function writeEd25519Key(dir: string, kid: string): void {
  const { privateKey } = generateKeyPairSync('ed25519');
  writeFileSync(
    path.join(dir, `${kid}.pem`),
    privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
  );
}

export interface TokenDatabase {
  readonly testDb: TestDatabase;
  readonly database: Database;
  readonly refreshTokens: RefreshTokensRepository;
  close(): Promise<void>;
}

export async function startTokenDatabase(prefix: string): Promise<TokenDatabase> {
  const testDb = await createTestDatabase(prefix);
  const database = new Database({
    primaryUrl: testDb.primaryUrl,
    poolMax: 10,
    statementTimeoutMs: 5_000,
    lockTimeoutMs: 2_000,
    replicaMaxLagSeconds: 5,
    replicaCheckIntervalMs: 1_000,
    metrics: testMetrics(),
  });
  await migrateLatest(database.primary);
  return {
    testDb,
    database,
    refreshTokens: new RefreshTokensRepository(database),
    close: async () => {
      await database.close();
      await testDb.drop();
    },
  };
}

export interface TokenStack {
  readonly accessTokens: AccessTokens;
  readonly sessions: TokenSessions;
  readonly verifier: JwtVerifier;
  readonly audit: RecordingAuditLog;
  readonly principals: MapPrincipals;
}

export function tokenStack(deps: {
  keys: SigningKeySource;
  denylist: TokenDenylist;
  db: TokenDatabase;
  settings?: AccessTokenSettings;
}): TokenStack {
  const accessTokens = new AccessTokens(deps.keys, deps.denylist, deps.settings ?? settings);
  const audit = new RecordingAuditLog();
  const principals = new MapPrincipals();
  const sessions = new TokenSessions({
    accessTokens,
    refreshTokens: deps.db.refreshTokens,
    denylist: deps.denylist,
    principals,
    audit,
    refreshTtlSeconds: 7 * 24 * 3600,
  });
  return {
    accessTokens,
    sessions,
    verifier: new JwtVerifier(accessTokens, principals),
    audit,
    principals,
  };
}

/**
 * The token routes served over HTTP as the service mounts them (defineRoute, problem+json), behind
 * a stand-in for authn's middleware: a bearer JWT goes through the JwtVerifier; `X-Test-Principal`
 * names a principal as an API key would. `GET /v1/whoami` is a protected route to verify through.
 */
export async function startTokenHarness(
  stack: TokenStack,
  keys: SigningKeySource,
): Promise<{ url: string; close(): Promise<void> }> {
  const app = express();
  app.use(requestContext(trace.getTracer('jwt-test')));
  app.use((req, res, next) => {
    const bearer = /^Bearer (.+)$/.exec(req.get('authorization') ?? '')?.[1];
    const named = req.get('x-test-principal');
    const resolve = async () => {
      if (bearer) return stack.verifier.verify(bearer);
      if (named) {
        const record = await stack.principals.find(named);
        return record && apiKeyPrincipal(record);
      }
      return undefined;
    };
    resolve().then((principal) => {
      if (principal) res.locals.principal = principal;
      else if (bearer) {
        res.setHeader('WWW-Authenticate', 'Bearer error="invalid_token"');
        return next(new HttpProblem(401, 'unauthorized', 'Unauthorized'));
      }
      next();
    }, next);
  });
  app.get('/v1/whoami', (_req, res, next) => {
    const principal = res.locals.principal as Principal | undefined;
    if (!principal) return next(new HttpProblem(401, 'unauthorized', 'Unauthorized'));
    res.json({ id: principal.id, credential: principal.credential });
  });
  const router = express.Router();
  mountRoutes(router, authRoutes({ sessions: stack.sessions, keys: () => keys.current() }));
  app.use(router);
  app.use(problemHandler(silentLogger));
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
