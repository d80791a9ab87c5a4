import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';

// The service's database login, read from a file Vault Agent renders (its database secrets engine
// issues short-lived users and renders the next one before the lease of the current one ends).
// Agent and Kubernetes replace such files atomically (a rename, or the `..data` symlink swap of a
// secret volume), which a watch on the file itself would miss after the first swap: the directory
// is watched, and a periodic re-read backs the watch up (events can be lost, e.g. on some
// network or overlay filesystems). Every connection opened after a change uses the new login;
// pools retire connections of an older one as they come back (database.ts).

export interface DatabaseLogin {
  readonly user: string;
  readonly password: string;
}

/** The current login, changing over time; `version` increases with every change. */
export interface DatabaseCredentials {
  current(): DatabaseLogin;
  readonly version: number;
  /** Called after every change; returns the unsubscribe function. */
  onChange(listener: (login: DatabaseLogin) => void): () => void;
}

/** Parses a credentials file: JSON `{"username", "password"}` (Vault's `.Data`) or a postgres URL. */
export function parseDatabaseLogin(text: string): DatabaseLogin {
  const trimmed = text.trim();
  if (/^postgres(ql)?:\/\//.test(trimmed)) {
    const url = new URL(trimmed);
    const user = decodeURIComponent(url.username);
    const password = decodeURIComponent(url.password);
    if (!user || !password) throw new Error('the URL has no user or no password');
    return { user, password };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(trimmed);
  } catch {
    // Never quote the content: it is a secret.
    throw new Error('neither JSON nor a postgres URL');
  }
  const o = (parsed ?? {}) as { username?: unknown; user?: unknown; password?: unknown };
  const user = o.username ?? o.user;
  if (typeof user !== 'string' || !user || typeof o.password !== 'string' || !o.password) {
    throw new Error('expected {"username": "...", "password": "..."}');
  }
  return { user, password: o.password };
}

/** `url` with its user and password replaced by `login`'s (host, database, options kept). */
export function withLogin(url: string, login: DatabaseLogin | undefined): string {
  if (!login) return url;
  const u = new URL(url);
  u.username = encodeURIComponent(login.user);
  u.password = encodeURIComponent(login.password);
  return u.toString();
}

export interface CredentialsFileOptions {
  /** Backstop re-read period, ms. */
  readonly checkIntervalMs: number;
  /** A change was applied (the login's user name only: never the password). */
  readonly onRotated?: (user: string) => void;
  /** The file could not be read or parsed; the current login stays in use. */
  readonly onError?: (err: Error) => void;
}

export class CredentialsFile implements DatabaseCredentials {
  private login: DatabaseLogin;
  private content: string;
  private versionNumber = 1;
  private readonly listeners = new Set<(login: DatabaseLogin) => void>();
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private reading: Promise<void> | undefined;
  private again = false;
  private closed = false;

  private constructor(
    private readonly file: string,
    initial: string,
    private readonly options: CredentialsFileOptions,
  ) {
    this.content = initial;
    this.login = parseDatabaseLogin(initial);
  }

  /** Reads the file (a missing or malformed file fails start-up) and starts watching it. */
  static async open(file: string, options: CredentialsFileOptions): Promise<CredentialsFile> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      throw new Error(
        `DATABASE_CREDENTIALS_FILE: cannot read ${file} (${(err as NodeJS.ErrnoException).code})`,
        { cause: err },
      );
    }
    let credentials: CredentialsFile;
    try {
      credentials = new CredentialsFile(file, text, options);
    } catch (err) {
      // parseDatabaseLogin's messages never quote the content.
      throw new Error(`DATABASE_CREDENTIALS_FILE: ${file}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    credentials.start();
    return credentials;
  }

  current(): DatabaseLogin {
    return this.login;
  }

  get version(): number {
    return this.versionNumber;
  }

  onChange(listener: (login: DatabaseLogin) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Re-reads the file now; resolves once any change is applied. */
  reload(): Promise<void> {
    if (this.reading) {
      this.again = true;
      return this.reading;
    }
    this.reading = this.read().finally(() => {
      this.reading = undefined;
      if (this.again && !this.closed) {
        this.again = false;
        void this.reload();
      }
    });
    return this.reading;
  }

  close(): void {
    this.closed = true;
    this.watcher?.close();
    clearTimeout(this.timer);
  }

  private start(): void {
    try {
      this.watcher = watch(path.dirname(this.file), { persistent: false }, () => {
        void this.reload();
      });
      this.watcher.on('error', (err) => this.options.onError?.(err));
    } catch (err) {
      // The periodic re-read still picks changes up.
      this.options.onError?.(err as Error);
    }
    this.schedule();
  }

  private schedule(): void {
    if (this.closed) return;
    this.timer = setTimeout(() => {
      void this.reload().finally(() => this.schedule());
    }, this.options.checkIntervalMs);
    this.timer.unref();
  }

  private async read(): Promise<void> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      // Between an unlink and a rename, or a transient error: keep the login in use.
      this.options.onError?.(
        new Error(`cannot read ${this.file} (${(err as NodeJS.ErrnoException).code})`),
      );
      return;
    }
    if (text === this.content || this.closed) return;
    let login: DatabaseLogin;
    try {
      login = parseDatabaseLogin(text);
    } catch (err) {
      this.options.onError?.(new Error(`${this.file}: ${(err as Error).message}`));
      return;
    }
    this.content = text;
    if (login.user === this.login.user && login.password === this.login.password) return;
    this.login = login;
    this.versionNumber += 1;
    this.options.onRotated?.(login.user);
    for (const listener of this.listeners) listener(login);
  }
}
