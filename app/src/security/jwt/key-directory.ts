import { createHash, randomBytes } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../../observability/logger';
import {
  buildKeyRing,
  generateEphemeralKey,
  importSigningKey,
  isValidKid,
  KeyFileError,
  type KeyFile,
  type KeyRing,
} from './signing-keys';

// The signing keys as Vault Agent (or a Kubernetes secret volume) renders them: a directory with one
// file per key, `<kid>.pem` (PKCS#8 private or SPKI public) or `<kid>.json` / `<kid>.jwk` (a JWK),
// and optionally a file `signing-kid` naming the key that signs (otherwise the newest does).
// Every key in the directory is published and accepted; removing its file retires it.
//
// Rotation with no failed request, across instances: add the new key first (every instance
// publishes and accepts it within one reload), then point `signing-kid` at it, and remove the old
// key once the tokens it signed have expired (JWT_ACCESS_TTL_SECONDS after the switch).
//
// Changes are noticed by fs.watch and, as a backstop, by re-reading the directory every
// `pollIntervalMs`: watch misses events on some volumes, and a secret volume swaps a `..data`
// symlink rather than writing the files it shows. A directory that does not make a valid key ring
// (a file half-written, a signing kid naming nothing) is refused whole: the previous ring stays in
// force and the next change or poll tries again.

export const signingKidFile = 'signing-kid';

const keyExtensions: Record<string, KeyFile['format']> = {
  '.pem': 'pem',
  '.json': 'jwk',
  '.jwk': 'jwk',
};

export interface SigningKeySource {
  current(): KeyRing;
  close(): Promise<void>;
}

interface DirectoryContent {
  readonly files: KeyFile[];
  readonly signingKid?: string;
  readonly digest: string;
}

async function readDirectory(dir: string): Promise<DirectoryContent> {
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

async function keyRingOf(content: DirectoryContent): Promise<KeyRing> {
  const invalid = content.files.find((f) => !isValidKid(f.kid));
  if (invalid) throw new KeyFileError(`"${invalid.kid}" is not a valid kid (A-Z a-z 0-9 . _ -)`);
  const keys = await Promise.all(content.files.map(importSigningKey));
  return buildKeyRing(keys, content.signingKid || undefined);
}

export class KeyDirectory implements SigningKeySource {
  private ring!: KeyRing;
  private digest = '';
  private watcher?: FSWatcher;
  private poller?: NodeJS.Timeout;
  private reloading?: Promise<void>;
  private reloadAgain = false;
  private closed = false;

  private constructor(
    private readonly dir: string,
    private readonly logger: Logger,
  ) {}

  /** Reads the directory (a start-up failure if it holds no valid ring) and starts watching it. */
  static async open(
    dir: string,
    options: { pollIntervalMs: number; logger: Logger },
  ): Promise<KeyDirectory> {
    const source = new KeyDirectory(dir, options.logger);
    const content = await readDirectory(dir);
    source.ring = await keyRingOf(content);
    source.digest = content.digest;
    source.logChange();
    try {
      source.watcher = watch(dir, () => source.reload());
      source.watcher.on('error', (err) =>
        options.logger.warn('signing key directory watch failed; polling only', { err }),
      );
    } catch (err) {
      options.logger.warn('cannot watch the signing key directory; polling only', { err });
    }
    source.poller = setInterval(() => source.reload(), options.pollIntervalMs);
    source.poller.unref();
    return source;
  }

  current(): KeyRing {
    return this.ring;
  }

  /** Re-reads the directory; concurrent calls coalesce into one more read after the running one. */
  reload(): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.reloading) {
      this.reloadAgain = true;
      return this.reloading;
    }
    this.reloading = (async () => {
      do {
        this.reloadAgain = false;
        await this.readOnce();
      } while (this.reloadAgain && !this.closed);
    })().finally(() => (this.reloading = undefined));
    return this.reloading;
  }

  private async readOnce(): Promise<void> {
    try {
      const content = await readDirectory(this.dir);
      if (content.digest === this.digest) return;
      const ring = await keyRingOf(content);
      this.digest = content.digest;
      if (ring.fingerprint === this.ring.fingerprint) return;
      this.ring = ring;
      this.logChange();
    } catch (err) {
      // Kept on the previous ring; a message from KeyFileError names files, never key material.
      this.logger.error('signing key directory refused; keeping the previous keys', {
        reason: err instanceof KeyFileError ? err.message : (err as NodeJS.ErrnoException).code,
      });
    }
  }

  private logChange(): void {
    this.logger.info('jwt signing keys loaded', {
      kids: [...this.ring.keys.keys()],
      signingKid: this.ring.signing.kid,
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.watcher?.close();
    if (this.poller) clearInterval(this.poller);
    await this.reloading;
  }
}

/** One key generated at start and never persisted: tokens die with the process (not for production). */
export async function ephemeralKeys(): Promise<SigningKeySource> {
  const key = await generateEphemeralKey(`ephemeral-${randomBytes(6).toString('hex')}`);
  const ring = buildKeyRing([key]);
  return { current: () => ring, close: async () => undefined };
}
