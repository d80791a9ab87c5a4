import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { buildKeyRing, generateEphemeralKey, type KeyFile } from './signing-keys';
import {
  WatchedKeyRing,
  type KeyMaterial,
  type KeyMaterialReader,
  type SigningKeySource,
  type WatchOptions,
} from './watched-key-ring';

export type { SigningKeySource } from './watched-key-ring';

// The signing keys as a Kubernetes secret volume (or anything writing one file per key) lays them
// out: a directory with one file per key, `<kid>.pem` (PKCS#8 private or SPKI public) or
// `<kid>.json` / `<kid>.jwk` (a JWK), and optionally a file `signing-kid` naming the key that signs
// (otherwise the newest does). Every key in the directory is published and accepted; removing its
// file retires it. Vault Agent renders the same keys as one file instead (key-bundle.ts).
//
// Rotation with no failed request, across instances: add the new key first (every instance
// publishes and accepts it within one reload), then point `signing-kid` at it, and remove the old
// key once the tokens it signed have expired (JWT_ACCESS_TTL_SECONDS after the switch).

export const signingKidFile = 'signing-kid';

/** File name extension → key format, in a directory and in a bundle's field names alike. */
export const keyExtensions: Record<string, KeyFile['format']> = {
  '.pem': 'pem',
  '.json': 'jwk',
  '.jwk': 'jwk',
};

async function readDirectory(dir: string): Promise<KeyMaterial> {
  const names = (await readdir(dir)).filter((n) => !n.startsWith('.')).sort();
  const files: KeyFile[] = [];
  let signingKid: string | undefined;
  const digest = createHash('sha256');
  for (const name of names) {
    const full = path.join(dir, name);
    // stat follows symlinks: a secret volume's entries are links into its `..data` directory.
    const info = await stat(full).catch(() => undefined);
    if (!info?.isFile()) continue;
    if (name === signingKidFile) {
      signingKid = (await readFile(full, 'utf8')).trim();
      digest.update(`signing-kid\0${signingKid}\0`);
      continue;
    }
    const format = keyExtensions[path.extname(name)];
    if (!format) continue;
    const kid = path.basename(name, path.extname(name));
    const content = await readFile(full, 'utf8');
    digest.update(`${name}\0${content}\0`);
    files.push({ kid, format, content });
  }
  return { files, signingKid, digest: digest.digest('hex') };
}

export class KeyDirectory extends WatchedKeyRing {
  /** Reads the directory (a start-up failure if it holds no valid ring) and starts watching it. */
  static async open(dir: string, options: WatchOptions): Promise<KeyDirectory> {
    const reader: KeyMaterialReader = {
      watchDir: dir,
      description: dir,
      read: () => readDirectory(dir),
    };
    return WatchedKeyRing.start(new KeyDirectory(reader, options.logger), options);
  }
}

/** One key generated at start and never persisted: tokens die with the process (not for production). */
export async function ephemeralKeys(): Promise<SigningKeySource> {
  const key = await generateEphemeralKey(`ephemeral-${randomBytes(6).toString('hex')}`);
  const ring = buildKeyRing([key]);
  return { current: () => ring, close: async () => undefined };
}
