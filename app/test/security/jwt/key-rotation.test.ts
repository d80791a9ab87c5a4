import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { KeyBundle } from '../../../src/security/jwt/key-bundle';
import { KeyDirectory, signingKidFile } from '../../../src/security/jwt/key-directory';
import type { WatchedKeyRing } from '../../../src/security/jwt/watched-key-ring';
import type { TokenPair } from '../../../src/security/jwt/token-sessions';
import { RedisTokenDenylist } from '../../../src/stores/tokens/redis-token-denylist';
import { requireEnv } from '../../stores/postgres/test-database';
import { eventually } from '../../../../test-support/eventually';
import {
  settings,
  silentLogger,
  startTokenDatabase,
  startTokenHarness,
  tokenStack,
  writeEd25519Key,
  type TokenDatabase,
} from './jwt-fixtures';

// Signing key rotation under continuous load, with zero failed requests: add the new key (published
// and accepted, not signing yet), switch signing to it, and remove the old one once every token it
// signed has expired. Workers loop issue + verify against the HTTP harness (real Postgres and Redis)
// and also keep presenting a token issued earlier, so tokens of the old key are verified after the
// switch; each token's kid must already be in the JWKS (what an outside verifier would fetch).

const kidOf = (token: string) =>
  (JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()) as { kid: string }).kid;
const expOf = (token: string) =>
  (JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { exp: number }).exp;

/** The steps of a rotation in one of the layouts the service reads keys from. */
interface KeyLayout {
  open(dir: string): Promise<WatchedKeyRing>;
  addKey(kid: string): void;
  sign(kid: string): void;
  removeKey(kid: string): void;
}

const directoryLayout = (dir: string): KeyLayout => ({
  open: (d) => KeyDirectory.open(d, { pollIntervalMs: 200, logger: silentLogger }),
  addKey: (kid) => writeEd25519Key(dir, kid),
  sign: (kid) => writeFileSync(path.join(dir, signingKidFile), kid),
  removeKey: (kid) => unlinkSync(path.join(dir, `${kid}.pem`)),
});

/** The bundle as Vault Agent renders it after each `vault kv patch`: the whole file, renamed over. */
const bundleLayout = (dir: string): KeyLayout => {
  const file = path.join(dir, 'JWT_SIGNING_KEYS');
  const fields: Record<string, string> = {};
  const render = () => {
    writeFileSync(`${file}.tmp`, JSON.stringify(fields));
    renameSync(`${file}.tmp`, file);
  };
  return {
    open: () => KeyBundle.open(file, { pollIntervalMs: 200, logger: silentLogger }),
    addKey: (kid) => {
      fields[`jwt-${kid}.pem`] = generateKeyPairSync('ed25519').privateKey.export({
        type: 'pkcs8',
        format: 'pem',
      }) as string;
      render();
    },
    sign: (kid) => {
      fields['jwt-signing-kid'] = kid;
      render();
    },
    removeKey: (kid) => {
      delete fields[`jwt-${kid}.pem`];
      render();
    },
  };
};

const layouts = {
  'key directory, one file per kid': directoryLayout,
  'key bundle, one file rendered by Vault Agent': bundleLayout,
};

for (const [layoutName, makeLayout] of Object.entries(layouts))
  describe(`signing key rotation under load (${layoutName})`, function () {
    this.timeout(120_000);
    let dir: string;
    let layout: KeyLayout;
    let db: TokenDatabase;
    let keys: WatchedKeyRing;
    let denylist: RedisTokenDenylist;
    let harness: { url: string; close(): Promise<void> };

    before(async () => {
      dir = mkdtempSync(path.join(tmpdir(), 'jwt-rotation-'));
      layout = makeLayout(dir);
      layout.addKey('k1');
      db = await startTokenDatabase('jwt_rotation');
      keys = await layout.open(dir);
      denylist = new RedisTokenDenylist(requireEnv('REDIS_URL'), {
        keyPrefix: `test:jwt-rotation:${process.pid}:`,
      });
      await denylist.waitUntilReady(5_000);
      // Short-lived tokens, so the old key's tokens expire within the test.
      const stack = tokenStack({
        keys,
        denylist,
        db,
        settings: { ...settings, ttlSeconds: 3, clockToleranceSeconds: 0 },
      });
      stack.principals.add('alice');
      harness = await startTokenHarness(stack, keys);
    });
    after(async () => {
      await harness?.close();
      await keys?.close();
      await denylist?.close();
      await db?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('rotates with zero failed requests', async () => {
      let phase = 'k1 only';
      const completed = new Map<string, number>();
      const failures: string[] = [];
      const signedBy = new Map<string, number>(); // kid → latest exp of a token it signed
      let stop = false;

      const worker = async () => {
        let held: string | undefined;
        while (!stop) {
          const at = phase;
          try {
            const issued = await fetch(`${harness.url}/v1/auth/token`, {
              method: 'POST',
              headers: { 'x-test-principal': 'alice' },
            });
            if (issued.status !== 200) throw new Error(`issue ${issued.status}`);
            const { accessToken } = (await issued.json()) as TokenPair;
            const kid = kidOf(accessToken);
            signedBy.set(kid, Math.max(signedBy.get(kid) ?? 0, expOf(accessToken)));
            const jwks = (await (await fetch(`${harness.url}/.well-known/jwks.json`)).json()) as {
              keys: { kid: string }[];
            };
            if (!jwks.keys.some((k) => k.kid === kid))
              throw new Error(`kid ${kid} not in the JWKS`);
            // The fresh token, and one issued earlier while it is still valid.
            const present = [accessToken];
            if (held && expOf(held) > Date.now() / 1000 + 1) present.push(held);
            else held = accessToken;
            for (const token of present) {
              const res = await fetch(`${harness.url}/v1/whoami`, {
                headers: { authorization: `Bearer ${token}` },
              });
              if (res.status !== 200) throw new Error(`verify (kid ${kidOf(token)}) ${res.status}`);
            }
            completed.set(at, (completed.get(at) ?? 0) + 1);
          } catch (err) {
            failures.push(`${at}: ${(err as Error).message}`);
          }
        }
      };
      const workers = Array.from({ length: 4 }, worker);
      const progress = async (name: string, iterations = 20) => {
        phase = name;
        const start = completed.get(name) ?? 0;
        await eventually(() => (completed.get(name) ?? 0) >= start + iterations, {
          timeoutMs: 30_000,
          what: `${iterations} iterations in phase "${name}"`,
        });
      };

      try {
        await progress('k1 only');

        // 1. Publish k2 without signing with it: the pointer first, then the key.
        layout.sign('k1');
        layout.addKey('k2');
        await eventually(() => keys.current().keys.has('k2'), { what: 'k2 published' });
        await progress('k2 published');
        assert.equal(keys.current().signing.kid, 'k1');

        // 2. Switch signing to k2; tokens k1 signed are still presented and accepted.
        layout.sign('k2');
        await eventually(() => keys.current().signing.kid === 'k2', { what: 'k2 signing' });
        await progress('k2 signing');

        // 3. Once the last token k1 signed has expired, remove k1.
        const lastK1 = signedBy.get('k1')!;
        await eventually(() => Date.now() / 1000 > lastK1 + 1, {
          timeoutMs: 30_000,
          what: 'k1 tokens expired',
        });
        layout.removeKey('k1');
        await eventually(() => !keys.current().keys.has('k1'), { what: 'k1 removed' });
        await progress('k1 removed');
      } finally {
        stop = true;
        await Promise.all(workers);
      }
      assert.deepEqual(failures, []);
      assert.ok(signedBy.has('k2'));
      const jwks = (await (await fetch(`${harness.url}/.well-known/jwks.json`)).json()) as {
        keys: { kid: string }[];
      };
      assert.deepEqual(
        jwks.keys.map((k) => k.kid),
        ['k2'],
      );
    });
  });
