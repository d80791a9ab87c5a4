import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { roleBootstrapStatements } from '../../../catalog/database-roles';
import { ApiKeyAuthenticator } from '../../src/security/api-key-authenticator';
import { ApiKeyHasher, developmentPepper } from '../../src/security/api-key-format';
import { AccessChangeListener } from '../../src/stores/postgres/access-changes';
import { ApiKeysRepository } from '../../src/stores/postgres/api-keys-repository';
import { PrincipalsRepository } from '../../src/stores/postgres/principals-repository';
import { tsNodeEnv } from '../../../test-support/ts-node-env';
import { repoRoot } from '../support/service-process';
import { eventually } from '../support/test-service';
import { startDataStack, type DataStack } from '../stores/postgres/data-stack';
import { createTestDatabase, type TestDatabase } from '../stores/postgres/test-database';

// `npm run apikey` is how production gets its first key: create (printing the key once), list
// (never a secret), revoke, and disable or enable a principal, through the API's use cases.

describe('npm run apikey', function () {
  this.timeout(90_000);
  let testDb: TestDatabase;
  let stack: DataStack;

  before(async () => {
    testDb = await createTestDatabase('apikey_cli');
    stack = await startDataStack(testDb);
  });
  after(async () => {
    await stack?.close();
    await testDb?.drop();
  });

  function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    return cliWith({ DATABASE_URL: testDb.primaryUrl }, ...args);
  }

  function cliWith(
    env: Record<string, string>,
    ...args: string[]
  ): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      execFile(
        process.execPath,
        ['-r', 'ts-node/register/transpile-only', 'app/src/cli/apikey.ts', ...args],
        {
          cwd: repoRoot,
          env: {
            PATH: process.env.PATH ?? '',
            TS_NODE_TRANSPILE_ONLY: '1',
            ...tsNodeEnv(),
            ...env,
          },
        },
        (err, stdout, stderr) =>
          resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
  }

  it('creates a super admin and its key, lists it without the secret, and revokes it', async () => {
    const refused = await cli('create', '--principal', 'ops');
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /--create-principal/);

    const created = await cli(
      'create',
      '--principal',
      'ops',
      '--create-principal',
      '--super-admin',
    );
    assert.equal(created.code, 0, created.stderr);
    const key = created.stdout.trim();
    assert.match(key, /^rag_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    assert.ok(!created.stderr.includes(key), 'the key reached the log');

    const principals = new PrincipalsRepository(stack.database);
    const keys = new ApiKeysRepository(stack.database, principals);
    const auth = new ApiKeyAuthenticator({
      keys,
      hasher: new ApiKeyHasher(Buffer.from(developmentPepper)),
      cacheTtlMs: 0,
    });
    const verdict = await auth.verify(key);
    assert.ok(verdict.ok);
    assert.equal(verdict.principal.superAdmin, true);

    const listed = await cli('list', '--principal', 'ops');
    assert.equal(listed.code, 0, listed.stderr);
    const [info] = listed.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(info.scopes, ['read', 'write', 'admin']);
    assert.ok(!listed.stdout.includes(key.slice(18)));

    const revoked = await cli('revoke', info.id);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.deepEqual(await auth.verify(key), { ok: false, reason: 'revoked', keyId: info.id });
  });

  it('logs in with the credentials file a serving pod has (DATABASE_URL names the host only)', async () => {
    // The stack migrated as the superuser: the bootstrap (re-run on every deploy) hands its
    // tables to the migrator and grants the service's role DML on them.
    const admin = new Client(testDb.primaryUrl);
    await admin.connect();
    try {
      for (const statement of roleBootstrapStatements(testDb.name)) await admin.query(statement);
    } finally {
      await admin.end();
    }
    const dir = mkdtempSync(path.join(tmpdir(), 'apikey-cli-'));
    try {
      // The service's own DML login, as Vault renders it for a serving pod.
      const url = new URL(testDb.serviceUrl);
      const file = path.join(dir, 'DATABASE_CREDENTIALS');
      writeFileSync(
        file,
        JSON.stringify({
          username: decodeURIComponent(url.username),
          password: decodeURIComponent(url.password),
        }),
      );
      url.username = '';
      url.password = '';
      const created = await cliWith(
        { DATABASE_URL: url.toString(), DATABASE_CREDENTIALS_FILE: file },
        'create',
        '--principal',
        'pod-operator',
        '--create-principal',
      );
      assert.equal(created.code, 0, created.stderr);
      assert.match(created.stdout.trim(), /^rag_[0-9a-f]{12}_/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('disables a principal, heard at once by every listening instance, never the last super admin', async () => {
    const heard: (string | null)[] = [];
    const listener = new AccessChangeListener({
      connectionString: testDb.primaryUrl,
      onChange: (principalId) => heard.push(principalId),
    });
    await listener.start();
    try {
      // Made through the repositories: each CLI run costs seconds of compilation.
      const principals = new PrincipalsRepository(stack.database);
      const ci = await principals.create({ name: 'ci' });
      const minted = new ApiKeyHasher(Buffer.from(developmentPepper)).mint();
      const keys = new ApiKeysRepository(stack.database, principals);
      await keys.create({
        principalId: ci.id,
        name: null,
        prefix: minted.prefix,
        hash: minted.hash,
        scopes: ['read'],
        expiresAt: null,
      });
      const key = minted.key;
      const auth = new ApiKeyAuthenticator({
        keys,
        hasher: new ApiKeyHasher(Buffer.from(developmentPepper)),
        cacheTtlMs: 0,
      });
      assert.equal((await auth.verify(key)).ok, true);

      const disabled = await cli('disable', '--principal', 'ci');
      assert.equal(disabled.code, 0, disabled.stderr);
      assert.match(disabled.stdout, /is disabled/);
      assert.equal((await auth.verify(key)).ok, false);
      await eventually(() => heard.includes(ci.id), { what: 'the disable announced' });

      // The only enabled super admin stays enabled.
      const root = await principals.create({ name: 'root', superAdmin: true });
      const admin = new Client(testDb.primaryUrl);
      await admin.connect();
      try {
        await admin.query('UPDATE principals SET disabled = true WHERE super_admin AND id <> $1', [
          root.id,
        ]);
      } finally {
        await admin.end();
      }
      const refused = await cli('disable', '--principal', 'root');
      assert.notEqual(refused.code, 0);
      assert.match(refused.stderr, /last enabled super admin/);
    } finally {
      await listener.close();
    }
  });
});
