import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { loadConfig, redactUrl } from '../config';
import { apiKeyScopes, type ApiKeyScope } from '../domain/access';
import { createLogger } from '../observability/logger';
import { createMetrics } from '../observability/metrics';
import { ApiKeyHasher, apiKeyPepper } from '../security/api-key-format';
import { ApiKeysRepository } from '../stores/postgres/api-keys-repository';
import { AuditLogRepository } from '../stores/postgres/audit-log-repository';
import { Database } from '../stores/postgres/database';
import { parseDatabaseLogin, withLogin } from '../stores/postgres/database-credentials';
import {
  startEmbeddedPostgres,
  type EmbeddedPostgresServer,
} from '../stores/postgres/embedded-postgres';
import { PrincipalsRepository } from '../stores/postgres/principals-repository';
import { RedisTokenDenylist } from '../stores/tokens/redis-token-denylist';
import { ApiKeyUseCases } from '../use-cases/api-keys';
import { PrincipalUseCases } from '../use-cases/principals';
import { CollectionAccess, systemPrincipal } from '../use-cases/collection-access';

// `npm run apikey -- create|list|revoke|disable|enable ...`: API keys and principals from the
// command line, through the same use cases as the API, acting as the service's own principal
// (whoever can reach the database with the service's configuration is trusted already). This is
// how production gets its first key: production never creates one by itself. The new key is
// printed once, to stdout; its creation is appended to the audit log like any other. A revocation
// or a disable reaches every running instance at once (the access change notice is sent in its
// transaction); with REDIS_URL set, a disabled principal's live access tokens are denylisted too.

const usage = `usage: npm run apikey -- <command> [options]
  create --principal <name> [--create-principal [--super-admin]] [--scopes read,write,admin]
         [--name <label>] [--expires-in-days <n>]
  list   --principal <name>
  revoke <key id>
  disable --principal <name>
  enable --principal <name>`;

class UsageError extends Error {}

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      principal: { type: 'string' },
      'create-principal': { type: 'boolean' },
      'super-admin': { type: 'boolean' },
      scopes: { type: 'string' },
      name: { type: 'string' },
      'expires-in-days': { type: 'string' },
    },
  });
  const [command, ...rest] = positionals;
  if (!['create', 'list', 'revoke', 'disable', 'enable'].includes(command ?? '')) {
    throw new UsageError(usage);
  }

  const config = loadConfig();
  let embedded: EmbeddedPostgresServer | undefined;
  let url = config.DATABASE_URL;
  if (!url) {
    embedded = await startEmbeddedPostgres({
      dataDir: config.EMBEDDED_POSTGRES_DIR,
      port: config.EMBEDDED_POSTGRES_PORT,
    });
    url = embedded.url;
  }
  // Run in a serving pod, the login is the file Vault Agent renders (DATABASE_URL names the host
  // only); a one-shot command reads it once.
  if (config.DATABASE_CREDENTIALS_FILE) {
    const login = parseDatabaseLogin(await readFile(config.DATABASE_CREDENTIALS_FILE, 'utf8'));
    url = withLogin(url, login);
  }
  const logger = createLogger({
    level: 'info',
    service: 'apikey-cli',
    destination: process.stderr,
  });
  const db = new Database({
    primaryUrl: url,
    poolMax: 2,
    statementTimeoutMs: config.DATABASE_STATEMENT_TIMEOUT_MS,
    lockTimeoutMs: config.DATABASE_LOCK_TIMEOUT_MS,
    replicaMaxLagSeconds: config.DATABASE_REPLICA_MAX_LAG_SECONDS,
    replicaCheckIntervalMs: config.DATABASE_REPLICA_CHECK_INTERVAL_MS,
    applicationName: 'apikey-cli',
    metrics: createMetrics(),
  });
  try {
    await db.start();
    const principals = new PrincipalsRepository(db);
    const keys = new ApiKeysRepository(db, principals);
    const access = new CollectionAccess({
      roles: principals,
      audit: new AuditLogRepository(db),
      logger,
    });
    const useCases = new ApiKeyUseCases({
      principals,
      keys,
      minter: new ApiKeyHasher(apiKeyPepper(config)),
      access,
    });

    if (command === 'revoke') {
      if (rest.length !== 1) throw new UsageError(usage);
      const revoked = await useCases.revoke(systemPrincipal, rest[0]);
      console.log(`revoked ${revoked.id} (${revoked.prefix}) of principal ${revoked.principalId}`);
      return;
    }
    const name = values.principal;
    if (!name) throw new UsageError(`--principal is required\n${usage}`);
    let principal = await useCases.findPrincipal(name);
    if (command === 'disable' || command === 'enable') {
      if (!principal) throw new UsageError(`no principal named "${name}"`);
      const denylist = config.REDIS_URL ? new RedisTokenDenylist(config.REDIS_URL) : undefined;
      try {
        await denylist?.waitUntilReady(2_000).catch((err: unknown) => {
          logger.warn('token denylist unreachable: live access tokens are not denied', { err });
        });
        const updated = await new PrincipalUseCases({
          principals,
          access,
          denylist,
          logger,
        }).setDisabled(systemPrincipal, principal.id, command === 'disable');
        console.log(`principal ${updated.name} (${updated.id}) is ${command}d`);
      } finally {
        await denylist?.close();
      }
      return;
    }
    if (command === 'list') {
      if (!principal) throw new UsageError(`no principal named "${name}"`);
      for (const key of await useCases.list(systemPrincipal, principal.id)) {
        console.log(JSON.stringify(key));
      }
      return;
    }
    if (!principal) {
      if (!values['create-principal']) {
        throw new UsageError(`no principal named "${name}" (add --create-principal to create it)`);
      }
      principal = await useCases.createPrincipal(systemPrincipal, {
        name,
        superAdmin: values['super-admin'] ?? false,
      });
    }
    const scopes = values.scopes?.split(',').map((s) => s.trim());
    for (const s of scopes ?? []) {
      if (!(apiKeyScopes as readonly string[]).includes(s)) {
        throw new UsageError(`unknown scope "${s}" (scopes: ${apiKeyScopes.join(', ')})`);
      }
    }
    const days =
      values['expires-in-days'] === undefined ? undefined : Number(values['expires-in-days']);
    if (days !== undefined && !(days > 0))
      throw new UsageError('--expires-in-days must be positive');
    const created = await useCases.create(systemPrincipal, {
      principalId: principal.id,
      name: values.name,
      scopes: (scopes as ApiKeyScope[] | undefined) ?? [...apiKeyScopes],
      expiresAt: days === undefined ? undefined : new Date(Date.now() + days * 86_400_000),
    });
    console.error(
      `created key ${created.info.id} for principal ${name} on ${redactUrl(url)}; it is shown this once:`,
    );
    console.log(created.key);
  } finally {
    await db.close();
    await embedded?.stop();
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  });
}
