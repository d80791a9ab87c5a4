import assert from 'node:assert/strict';
import { generateKeyPairSync, generateKeySync } from 'node:crypto';
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  KeyDirectory,
  ephemeralKeys,
  signingKidFile,
} from '../../../src/security/jwt/key-directory';
import { eventually } from '../../../../test-support/eventually';
import { silentLogger, writeEd25519Key } from './jwt-fixtures';

// The key directory as Vault Agent or a Kubernetes secret volume renders it, on the real file system.

describe('JWT signing key directory', function () {
  this.timeout(20_000);
  let dir: string;
  let source: KeyDirectory | undefined;

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'jwt-keys-'));
  });
  afterEach(async () => {
    await source?.close();
    source = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  const open = async (pollIntervalMs = 60_000) =>
    (source = await KeyDirectory.open(dir, { pollIntervalMs, logger: silentLogger }));

  it('loads PEM and JWK keys; the newest kid signs; the JWKS holds public members with kid, alg, use', async () => {
    writeEd25519Key(dir, '2026-11-01');
    const { privateKey } = generateKeyPairSync('ed25519');
    writeFileSync(
      path.join(dir, '2026-12-01.json'),
      JSON.stringify(privateKey.export({ format: 'jwk' })),
    );
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    writeFileSync(
      path.join(dir, '2026-10-01.pem'),
      ec.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    );
    writeFileSync(path.join(dir, 'README.txt'), 'not a key');
    const ring = (await open()).current();
    assert.equal(ring.signing.kid, '2026-12-01');
    assert.deepEqual([...ring.algorithms].sort(), ['ES256', 'EdDSA']);
    assert.deepEqual(
      ring.jwks.keys.map((k) => [k.kid, k.alg, k.use]),
      [
        ['2026-10-01', 'ES256', 'sig'],
        ['2026-11-01', 'EdDSA', 'sig'],
        ['2026-12-01', 'EdDSA', 'sig'],
      ],
    );
    for (const jwk of ring.jwks.keys) assert.equal(jwk.d, undefined, 'no private member published');
  });

  it('signs with the key `signing-kid` names; a public-only key is accepted and published but never signs', async () => {
    writeEd25519Key(dir, 'a');
    writeEd25519Key(dir, 'b');
    const { publicKey } = generateKeyPairSync('ed25519');
    writeFileSync(
      path.join(dir, 'z.pem'),
      publicKey.export({ type: 'spki', format: 'pem' }) as string,
    );
    writeFileSync(path.join(dir, signingKidFile), 'a\n');
    const ring = (await open()).current();
    assert.equal(ring.signing.kid, 'a');
    assert.ok(ring.keys.has('z'));
    assert.equal(ring.keys.get('z')!.privateKey, undefined);

    rmSync(path.join(dir, signingKidFile));
    writeEd25519Key(dir, 'c');
    await source!.reload();
    assert.equal(source!.current().signing.kid, 'c', 'newest holding a private key, not z');
  });

  it('refuses at start a directory with no usable key, a symmetric key or a weak RSA key', async () => {
    await assert.rejects(open(), /no signing keys/);
    writeFileSync(
      path.join(dir, 'hmac.json'),
      JSON.stringify(generateKeySync('hmac', { length: 256 }).export({ format: 'jwk' })),
    );
    await assert.rejects(open(), /symmetric/);
    rmSync(path.join(dir, 'hmac.json'));
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
    writeFileSync(
      path.join(dir, 'weak.pem'),
      rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    );
    await assert.rejects(open(), /at least 2048/);
  });

  it('picks up an added and a removed key by itself (fs.watch)', async () => {
    writeEd25519Key(dir, 'k1');
    await open();
    writeEd25519Key(dir, 'k2');
    await eventually(() => source!.current().keys.has('k2'), { what: 'k2 loaded' });
    assert.equal(source!.current().signing.kid, 'k2');
    unlinkSync(path.join(dir, 'k1.pem'));
    await eventually(() => !source!.current().keys.has('k1'), { what: 'k1 retired' });
  });

  it('follows a Kubernetes secret volume swapping its ..data symlink, whichever of watch and poll sees it first', async () => {
    // The layout kubelet writes: ..<timestamp>/ holds the files, ..data points at it, and each key
    // name is a link through ..data; an update writes a new ..<timestamp>/ and renames a new link
    // over ..data, so the key names' links never change.
    const version = (name: string, kids: string[]) => {
      mkdirSync(path.join(dir, name));
      for (const kid of kids) writeEd25519Key(path.join(dir, name), kid);
    };
    version('..2026_12_01_00_00_00.1', ['k1']);
    symlinkSync('..2026_12_01_00_00_00.1', path.join(dir, '..data'));
    symlinkSync('..data/k1.pem', path.join(dir, 'k1.pem'));
    symlinkSync('..data/k2.pem', path.join(dir, 'k2.pem')); // dangling until the update: skipped
    await open(100);
    assert.deepEqual([...source!.current().keys.keys()], ['k1']);

    version('..2026_12_01_00_05_00.2', ['k1', 'k2']);
    symlinkSync('..2026_12_01_00_05_00.2', path.join(dir, '..data_tmp'));
    renameSync(path.join(dir, '..data_tmp'), path.join(dir, '..data'));
    await eventually(() => source!.current().keys.has('k2'), { what: 'k2 through ..data' });
    assert.equal(source!.current().signing.kid, 'k2');
  });

  it('polls as a backstop: a key rewritten behind a symlink (no event in the directory) is picked up', async () => {
    mkdirSync(path.join(dir, '..v1'));
    writeEd25519Key(path.join(dir, '..v1'), 'k1');
    symlinkSync('..v1/k1.pem', path.join(dir, 'k1.pem'));
    await open(100);
    const before = source!.current().jwks.keys[0]!.x;
    // A watch of the directory sees nothing: the link is untouched, its target lives elsewhere.
    writeEd25519Key(path.join(dir, '..v1'), 'k1');
    await eventually(() => source!.current().jwks.keys[0]!.x !== before, { what: 'new k1' });
  });

  it('keeps the previous keys while the directory holds a broken file, and takes the fixed one', async () => {
    writeEd25519Key(dir, 'k1');
    await open(100);
    const before = source!.current();
    writeEd25519Key(dir, 'k2');
    const pem = readFileSync(path.join(dir, 'k2.pem'), 'utf8');
    writeFileSync(path.join(dir, 'k2.pem'), pem.slice(0, 40)); // half-written
    await source!.reload();
    assert.equal(source!.current(), before);
    writeFileSync(path.join(dir, 'k2.pem'), pem);
    await eventually(() => source!.current().keys.has('k2'), { what: 'k2 once whole' });
  });

  it('without a directory, generates one Ed25519 key for this process', async () => {
    const keys = await ephemeralKeys();
    const ring = keys.current();
    assert.equal(ring.signing.alg, 'EdDSA');
    assert.match(ring.signing.kid, /^ephemeral-/);
    assert.deepEqual(ring.algorithms, ['EdDSA']);
  });
});
