import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Closers } from '../../../src/composition/closers';
import { startJwt } from '../../../src/composition/jwt';
import { loadConfig } from '../../../src/config';
import {
  MapPrincipals,
  RecordingAuditLog,
  silentLogger,
  startTokenDatabase,
  type TokenDatabase,
} from './jwt-fixtures';

// The service's JWT layer takes its keys from JWT_SIGNING_KEYS_FILE, the one file Vault Agent
// renders in the deployed stacks; production without any key source issues no tokens.

describe('JWT layer composition', function () {
  this.timeout(20_000);
  let dir: string;
  let db: TokenDatabase;
  let closers: Closers;
  before(async () => {
    db = await startTokenDatabase('jwt_composition');
  });
  after(async () => db?.close());
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'jwt-composition-'));
    closers = new Closers(silentLogger);
  });
  afterEach(async () => {
    await closers.closeAll();
    rmSync(dir, { recursive: true, force: true });
  });
  const start = (env: Record<string, string>, production = false) => {
    const config = loadConfig(env);
    return startJwt(production ? { ...config, NODE_ENV: 'production' } : config, {
      db: db.database,
      principals: new MapPrincipals(),
      audit: new RecordingAuditLog(),
      logger: silentLogger,
      closers,
    });
  };

  it('signs with and publishes the keys of JWT_SIGNING_KEYS_FILE, even in production', async () => {
    const file = path.join(dir, 'JWT_SIGNING_KEYS');
    const pem = () =>
      generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' });
    writeFileSync(
      file,
      JSON.stringify({ 'jwt-a.pem': pem(), 'jwt-b.pem': pem(), 'jwt-signing-kid': 'a' }),
    );
    for (const production of [false, true]) {
      const layer = await start({ JWT_SIGNING_KEYS_FILE: file }, production);
      assert.ok(layer, 'token routes on');
      assert.equal(layer.keys.current().signing.kid, 'a');
      assert.deepEqual(
        layer.keys.current().jwks.keys.map((k) => k.kid),
        ['a', 'b'],
      );
    }
  });

  it('refuses to start on a bundle that makes no key ring; production without keys issues no tokens', async () => {
    const file = path.join(dir, 'JWT_SIGNING_KEYS');
    writeFileSync(file, 'null');
    await assert.rejects(start({ JWT_SIGNING_KEYS_FILE: file }), /no signing keys/);
    assert.equal(await start({}, true), undefined);
  });
});
