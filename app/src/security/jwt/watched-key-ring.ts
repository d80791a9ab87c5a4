import { watch, type FSWatcher } from 'node:fs';
import type { Logger } from '../../observability/logger';
import {
  buildKeyRing,
  importSigningKey,
  isValidKid,
  KeyFileError,
  type KeyFile,
  type KeyRing,
} from './signing-keys';

// A key ring read from files and kept current: the watching, polling and all-or-nothing reload that
// the key directory (key-directory.ts) and the key bundle (key-bundle.ts) share. They differ only in
// how the files are laid out.
//
// Changes are noticed by fs.watch on the directory and, as a backstop, by reading again every
// `pollIntervalMs`: watch misses events on some volumes, and a secret volume swaps a `..data`
// symlink rather than writing the files it shows. What does not make a valid key ring (a file
// half-written, a signing kid naming nothing) is refused whole: the previous ring stays in force
// and the next change or poll tries again.

export interface SigningKeySource {
  current(): KeyRing;
  close(): Promise<void>;
}

/** What one read of the files found: the keys, the signing choice, and a digest of both. */
export interface KeyMaterial {
  readonly files: KeyFile[];
  readonly signingKid?: string;
  readonly digest: string;
}

export interface KeyMaterialReader {
  /** The directory whose change events trigger a read. */
  readonly watchDir: string;
  /** Names the source in log lines (a path, never content). */
  readonly description: string;
  read(): Promise<KeyMaterial>;
}

export interface WatchOptions {
  pollIntervalMs: number;
  logger: Logger;
}

async function keyRingOf(content: KeyMaterial): Promise<KeyRing> {
  const invalid = content.files.find((f) => !isValidKid(f.kid));
  if (invalid) throw new KeyFileError(`"${invalid.kid}" is not a valid kid (A-Z a-z 0-9 . _ -)`);
  const keys = await Promise.all(content.files.map(importSigningKey));
  return buildKeyRing(keys, content.signingKid || undefined);
}

export class WatchedKeyRing implements SigningKeySource {
  private ring!: KeyRing;
  private digest = '';
  private watcher?: FSWatcher;
  private poller?: NodeJS.Timeout;
  private reloading?: Promise<void>;
  private reloadAgain = false;
  private closed = false;

  protected constructor(
    private readonly reader: KeyMaterialReader,
    private readonly logger: Logger,
  ) {}

  /** Reads the keys (a start-up failure if they make no valid ring) and starts watching. */
  protected static async start<T extends WatchedKeyRing>(
    source: T,
    options: WatchOptions,
  ): Promise<T> {
    await source.load();
    source.watch(options);
    return source;
  }

  private async load(): Promise<void> {
    const content = await this.reader.read();
    this.ring = await keyRingOf(content);
    this.digest = content.digest;
    this.logChange();
  }

  private watch(options: WatchOptions): void {
    const { logger } = options;
    try {
      this.watcher = watch(this.reader.watchDir, () => this.reload());
      this.watcher.on('error', (err) =>
        logger.warn('signing key watch failed; polling only', {
          err,
          source: this.reader.description,
        }),
      );
    } catch (err) {
      logger.warn('cannot watch the signing keys; polling only', {
        err,
        source: this.reader.description,
      });
    }
    this.poller = setInterval(() => this.reload(), options.pollIntervalMs);
    this.poller.unref();
  }

  current(): KeyRing {
    return this.ring;
  }

  /** Reads again; concurrent calls coalesce into one more read after the running one. */
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
      const content = await this.reader.read();
      if (content.digest === this.digest) return;
      const ring = await keyRingOf(content);
      this.digest = content.digest;
      if (ring.fingerprint === this.ring.fingerprint) return;
      this.ring = ring;
      this.logChange();
    } catch (err) {
      // Kept on the previous ring; a message from KeyFileError names files, never key material.
      this.logger.error('signing keys refused; keeping the previous keys', {
        source: this.reader.description,
        reason: err instanceof KeyFileError ? err.message : (err as NodeJS.ErrnoException).code,
      });
    }
  }

  private logChange(): void {
    this.logger.info('jwt signing keys loaded', {
      source: this.reader.description,
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
