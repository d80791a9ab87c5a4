import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { KeyBundle, parseKeyBundle } from '../../../src/security/jwt/key-bundle';
import { buildKeyRing, importSigningKey } from '../../../src/security/jwt/signing-keys';
import { createLogger } from '../../../src/observability/logger';
import { eventually } from '../../../../test-support/eventually';
import { silentLogger } from './jwt-fixtures';

// The signing keys as one JSON file of `jwt-` fields, as Vault Agent renders them from
// `secret/rag-api/keys` (the template: infra/components/vault.ts jwtSigningKeysTemplate; it is
// rendered by the real consul-template in infra/test/app-settings.test.ts).

const ed25519Pem = () =>
  generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;

describe('JWT signing key bundle', function () {
  this.timeout(20_000);
  let dir: string;
  let file: string;
  let source: KeyBundle | undefined;

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'jwt-bundle-'));
    file = path.join(dir, 'JWT_SIGNING_KEYS');
  });
  afterEach(async () => {
    await source?.close();
    source = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  /** How Vault Agent writes a rendered template: a temporary file renamed over the old one. */
  const render = (fields: Record<string, string> | null) => {
    writeFileSync(`${file}.tmp`, JSON.stringify(fields));
    renameSync(`${file}.tmp`, file);
  };
  const open = async (pollIntervalMs = 60_000, logger = silentLogger) =>
    (source = await KeyBundle.open(file, { pollIntervalMs, logger }));

  it('loads every jwt- key (PEM and JWK) and signs with the one jwt-signing-kid names', async () => {
    const jwk = generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' });
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    render({
      'jwt-2026-10-01.pem': ec.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
      'jwt-2026-11-01.pem': ed25519Pem(),
      'jwt-2026-12-01.json': JSON.stringify(jwk),
      'jwt-signing-kid': '2026-11-01',
    });
    const ring = (await open()).current();
    assert.equal(ring.signing.kid, '2026-11-01');
    assert.deepEqual(
      ring.jwks.keys.map((k) => [k.kid, k.alg]),
      [
        ['2026-10-01', 'ES256'],
        ['2026-11-01', 'EdDSA'],
        ['2026-12-01', 'EdDSA'],
      ],
    );
    for (const key of ring.jwks.keys) assert.equal(key.d, undefined, 'no private member published');
  });

  it('without jwt-signing-kid, the newest kid signs', () => {
    const material = parseKeyBundle(
      JSON.stringify({ 'jwt-a.pem': ed25519Pem(), 'jwt-b.pem': ed25519Pem() }),
    );
    assert.equal(material.signingKid, undefined);
    assert.deepEqual(
      material.files.map((f) => [f.kid, f.format]),
      [
        ['a', 'pem'],
        ['b', 'pem'],
      ],
    );
  });

  it('refuses at start a bundle with no key (the template renders null), a half-written one, or a signing kid naming nothing', async () => {
    render(null);
    await assert.rejects(open(), /no signing keys/);
    writeFileSync(file, JSON.stringify({ 'jwt-k1.pem': ed25519Pem() }).slice(0, 60));
    await assert.rejects(open(), /not JSON/);
    render({ 'jwt-k1.pem': ed25519Pem(), 'jwt-signing-kid': 'k2' });
    await assert.rejects(open(), /the signing kid k2 names no key/);
  });

  it('refuses fields the template must not let through, naming the field and never its value', () => {
    const pepper = 'p'.repeat(48);
    const refused = (fields: Record<string, unknown>, reason: RegExp) =>
      assert.throws(
        () => parseKeyBundle(JSON.stringify(fields)),
        (err: Error) => reason.test(err.message) && !err.message.includes(pepper),
      );
    refused({ 'jwt-k1.pem': ed25519Pem(), API_KEY_PEPPER: pepper }, /API_KEY_PEPPER.*not a jwt-/);
    refused({ 'jwt-k1.pen': pepper }, /jwt-k1\.pen is neither a key/);
    refused({ 'jwt-k1.pem': 42 }, /jwt-k1\.pem is not a string/);
    refused({ 'jwt-../k1.pem': ed25519Pem() }, /"\.\.\/k1" is not a valid kid/);
    assert.throws(() => parseKeyBundle('["jwt-k1.pem"]'), /not a JSON object/);
  });

  it('keeps the previous keys while the bundle is half-written or its signing kid names nothing, and takes the next valid one', async () => {
    const k1 = ed25519Pem();
    const k2 = ed25519Pem();
    render({ 'jwt-k1.pem': k1 });
    const lines: string[] = [];
    const logger = createLogger({
      level: 'info',
      service: 'jwt-test',
      destination: new Writable({
        write(chunk: Buffer, _encoding, done) {
          lines.push(chunk.toString());
          done();
        },
      }),
    });
    await open(60_000, logger);
    const before = source!.current();

    const whole = JSON.stringify({ 'jwt-k1.pem': k1, 'jwt-k2.pem': k2 });
    writeFileSync(file, whole.slice(0, whole.length - 40));
    await source!.reload();
    assert.equal(source!.current(), before, 'half-written: the previous ring');

    render({ 'jwt-k1.pem': k1, 'jwt-k2.pem': k2, 'jwt-signing-kid': 'k3' });
    await source!.reload();
    assert.equal(source!.current(), before, 'signing kid naming nothing: the previous ring');
    assert.ok(lines.some((l) => l.includes('the signing kid k3 names no key')));
    for (const line of lines) assert.ok(!line.includes(k2.split('\n')[1]!), 'no key in the log');

    render({ 'jwt-k1.pem': k1, 'jwt-k2.pem': k2, 'jwt-signing-kid': 'k2' });
    await source!.reload();
    assert.equal(source!.current().signing.kid, 'k2');
    assert.deepEqual([...source!.current().keys.keys()].sort(), ['k1', 'k2']);
  });

  it('follows the file being renamed over (watching its directory, not the replaced inode)', async () => {
    render({ 'jwt-k1.pem': ed25519Pem() });
    await open(); // the poll is a minute away: only the watch can see these
    render({ 'jwt-k1.pem': ed25519Pem(), 'jwt-k2.pem': ed25519Pem() });
    await eventually(() => source!.current().signing.kid === 'k2', { what: 'k2 via watch' });
    render({ 'jwt-k2.pem': ed25519Pem(), 'jwt-signing-kid': 'k2' });
    await eventually(() => !source!.current().keys.has('k1'), { what: 'k1 retired via watch' });
  });

  it("accepts the keys the runbooks' `openssl genpkey` lines make, run as written", async () => {
    const runbooks = ['secret-rotation.md', 'bootstrap-vault.md'].map((f) =>
      readFileSync(path.join(__dirname, '../../../../runbooks/procedures', f), 'utf8'),
    );
    const lines = runbooks.flatMap((text) =>
      text.split('\n').filter((l) => l.startsWith('openssl genpkey ')),
    );
    assert.equal(lines.length, 2, 'one key generation line in each runbook');
    for (const line of lines) {
      execFileSync('sh', ['-c', line], { cwd: dir });
      const out = /-out (\S+)/.exec(line)![1]!;
      const kid = out.replace(/\.pem$/, '');
      const material = parseKeyBundle(
        JSON.stringify({
          [`jwt-${out}`]: readFileSync(path.join(dir, out), 'utf8'),
          'jwt-signing-kid': kid,
        }),
      );
      const ring = buildKeyRing(
        await Promise.all(material.files.map(importSigningKey)),
        material.signingKid,
      );
      assert.equal(ring.signing.kid, kid, line);
      assert.equal(ring.signing.alg, 'EdDSA', line);
      assert.ok(ring.signing.privateKey, `${line}: a private key, it can sign`);
    }
  });
});
