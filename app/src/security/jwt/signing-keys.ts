import {
  createHash,
  createPrivateKey,
  createPublicKey,
  type JsonWebKey,
  type KeyObject,
} from 'node:crypto';
import { loadJose, type JoseCryptoKey, type JWK } from './jose';

// The JWT signing keys as one immutable snapshot: which keys are accepted (each by its `kid`), which
// one signs, and what the JWKS publishes. A snapshot is replaced whole when the key directory
// changes (key-directory.ts), so a verification never sees half a rotation.

/** The signature algorithms a key file may hold, by key type: asymmetric only. */
export type SigningAlgorithm = 'EdDSA' | 'RS256' | 'ES256';

export interface SigningKey {
  readonly kid: string;
  readonly alg: SigningAlgorithm;
  readonly publicKey: JoseCryptoKey;
  /** Absent for a key published and accepted but no longer allowed to sign (a retiring key). */
  readonly privateKey?: JoseCryptoKey;
  /** What the JWKS publishes: public members only, with `kid`, `alg` and `use: sig`. */
  readonly publicJwk: JWK;
}

export interface KeyRing {
  readonly keys: ReadonlyMap<string, SigningKey>;
  readonly signing: SigningKey;
  /** Exactly the algorithms of the keys held: the verifier's allowlist. */
  readonly algorithms: readonly SigningAlgorithm[];
  readonly jwks: { readonly keys: readonly JWK[] };
  /** Changes when any key or the signing choice changes. */
  readonly fingerprint: string;
}

export class KeyFileError extends Error {
  override readonly name = 'KeyFileError';
}

/** A key file's raw content, named by the file name it came from. */
export interface KeyFile {
  readonly kid: string;
  readonly format: 'pem' | 'jwk';
  readonly content: string;
}

const kidPattern = /^[A-Za-z0-9._-]{1,64}$/;

export function isValidKid(kid: string): boolean {
  return kidPattern.test(kid);
}

function algorithmOf(key: KeyObject, kid: string): SigningAlgorithm {
  switch (key.asymmetricKeyType) {
    case 'ed25519':
      return 'EdDSA';
    case 'rsa': {
      const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
      if (bits < 2048) throw new KeyFileError(`key ${kid}: RSA keys need at least 2048 bits`);
      return 'RS256';
    }
    case 'ec':
      if (key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ES256';
      throw new KeyFileError(`key ${kid}: only the P-256 curve is accepted for EC keys`);
    default:
      throw new KeyFileError(
        `key ${kid}: ${key.asymmetricKeyType ?? 'a symmetric key'} is not an accepted signing key (Ed25519, RSA ≥ 2048, P-256)`,
      );
  }
}

function parseKeyObjects(file: KeyFile): { privateKey?: KeyObject; publicKey: KeyObject } {
  try {
    if (file.format === 'jwk') {
      const jwk = JSON.parse(file.content) as JsonWebKey & { kid?: unknown };
      if (jwk.kty === 'oct') throw new KeyFileError(`key ${file.kid}: symmetric keys are refused`);
      if (jwk.kid !== undefined && jwk.kid !== file.kid)
        throw new KeyFileError(`key ${file.kid}: the JWK's kid differs from its file name`);
      if (jwk.d !== undefined) {
        const privateKey = createPrivateKey({ key: jwk, format: 'jwk' });
        return { privateKey, publicKey: createPublicKey(privateKey) };
      }
      return { publicKey: createPublicKey({ key: jwk, format: 'jwk' }) };
    }
    if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(file.content)) {
      const privateKey = createPrivateKey(file.content);
      return { privateKey, publicKey: createPublicKey(privateKey) };
    }
    return { publicKey: createPublicKey(file.content) };
  } catch (err) {
    if (err instanceof KeyFileError) throw err;
    // The parser's message can quote the input: name the file only.
    throw new KeyFileError(`key ${file.kid}: not a readable ${file.format.toUpperCase()} key`);
  }
}

export async function importSigningKey(file: KeyFile): Promise<SigningKey> {
  if (!isValidKid(file.kid)) throw new KeyFileError(`"${file.kid}" is not a valid kid`);
  const { importJWK } = await loadJose();
  const objects = parseKeyObjects(file);
  const alg = algorithmOf(objects.publicKey, file.kid);
  const declared =
    file.format === 'jwk' ? (JSON.parse(file.content) as { alg?: unknown }).alg : undefined;
  if (declared !== undefined && declared !== alg)
    throw new KeyFileError(
      `key ${file.kid}: its alg ${String(declared)} does not fit its key type (${alg})`,
    );
  const jwkOf = (k: KeyObject) => k.export({ format: 'jwk' }) as JWK;
  const publicJwk = jwkOf(objects.publicKey);
  return {
    kid: file.kid,
    alg,
    publicKey: (await importJWK(publicJwk, alg)) as JoseCryptoKey,
    ...(objects.privateKey
      ? { privateKey: (await importJWK(jwkOf(objects.privateKey), alg)) as JoseCryptoKey }
      : {}),
    publicJwk: { ...publicJwk, kid: file.kid, alg, use: 'sig' },
  };
}

/**
 * Builds a snapshot. The signing key is `signingKid` when given, otherwise the newest key holding a
 * private part, newest meaning the greatest kid (name key files so they sort by creation, such as
 * `2026-12-01`): file times are no guide, since a Kubernetes secret volume rewrites every file at once.
 */
export function buildKeyRing(keys: readonly SigningKey[], signingKid?: string): KeyRing {
  if (keys.length === 0) throw new KeyFileError('no signing keys');
  const byKid = new Map(keys.map((k) => [k.kid, k]));
  if (byKid.size !== keys.length) throw new KeyFileError('two key files share a kid');
  let signing: SigningKey | undefined;
  if (signingKid !== undefined) {
    signing = byKid.get(signingKid);
    if (!signing) throw new KeyFileError(`the signing kid ${signingKid} names no key`);
    if (!signing.privateKey)
      throw new KeyFileError(`the signing kid ${signingKid} has no private key`);
  } else {
    signing = [...keys]
      .filter((k) => k.privateKey)
      .sort((a, b) => (a.kid < b.kid ? 1 : a.kid > b.kid ? -1 : 0))[0];
    if (!signing) throw new KeyFileError('no key holds a private part to sign with');
  }
  const sorted = [...keys].sort((a, b) => (a.kid < b.kid ? -1 : 1));
  const fingerprint = createHash('sha256')
    .update(JSON.stringify([signing.kid, sorted.map((k) => [k.kid, k.publicJwk, !!k.privateKey])]))
    .digest('hex');
  return {
    keys: byKid,
    signing,
    algorithms: [...new Set(sorted.map((k) => k.alg))],
    jwks: { keys: sorted.map((k) => k.publicJwk) },
    fingerprint,
  };
}

/** A fresh Ed25519 key for a process without a key directory (never in production). */
export async function generateEphemeralKey(kid: string): Promise<SigningKey> {
  const { generateKeyPair, exportJWK } = await loadJose();
  const { publicKey, privateKey } = await generateKeyPair('EdDSA', {
    crv: 'Ed25519',
    extractable: true,
  });
  return {
    kid,
    alg: 'EdDSA',
    publicKey,
    privateKey,
    publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'EdDSA', use: 'sig' },
  };
}
