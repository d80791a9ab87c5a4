import { Client } from 'pg';
import { withLogin, type DatabaseCredentials } from './database-credentials';

// Every change of a collection's searchable content (index version bump) and every collection
// delete is announced with pg_notify inside the transaction that makes it (collections-repository),
// so Postgres delivers the notice exactly when the change commits and never for a rollback. This
// listener holds one dedicated connection to the primary with LISTEN on that channel; every
// instance of the service hears every commit, whoever made it.

export const collectionChangesChannel = 'rag_collection_changes';

export interface CollectionChange {
  /** The collection's id (what clients name it). */
  readonly id: string;
  /** The version the commit set; null when the collection was deleted. */
  readonly indexVersion: number | null;
}

/** The notice's payload: the id and the new version (null for a delete). */
export function encodeCollectionChange(change: CollectionChange): string {
  return JSON.stringify({ id: change.id, v: change.indexVersion });
}

export function decodeCollectionChange(payload: string | undefined): CollectionChange | undefined {
  try {
    const parsed = JSON.parse(payload ?? '') as { id?: unknown; v?: unknown };
    if (typeof parsed.id !== 'string') return undefined;
    return { id: parsed.id, indexVersion: typeof parsed.v === 'number' ? parsed.v : null };
  } catch {
    return undefined;
  }
}

export interface CollectionChangeListenerOptions {
  readonly connectionString: string;
  /**
   * The login to use instead of the URL's. On a change the connection is closed and opened again
   * with the new login (nothing is cached meanwhile), so the old login is left unused.
   */
  readonly credentials?: DatabaseCredentials;
  readonly onChange: (change: CollectionChange) => void;
  /**
   * Called with false as soon as the connection is lost (notices may be missed from then on) and
   * with true once LISTEN is in place again: whatever was cached before may have missed changes.
   */
  readonly onListening: (listening: boolean) => void;
  readonly onError?: (err: Error) => void;
  /** Longest pause between reconnect attempts, in ms. Default 2,000. */
  readonly maxReconnectDelayMs?: number;
  readonly connectTimeoutMs?: number;
  readonly applicationName?: string;
}

export class CollectionChangeListener {
  private client: Client | undefined;
  private stopped = false;
  private attempt = 0;
  private timer: NodeJS.Timeout | undefined;
  private connecting: Promise<void> | undefined;

  private unsubscribe: (() => void) | undefined;

  constructor(private readonly options: CollectionChangeListenerOptions) {}

  /** Starts listening; resolves after the first attempt, connected or not (it keeps retrying). */
  start(): Promise<void> {
    this.unsubscribe ??= this.options.credentials?.onChange(() => {
      // `end` reports the loss like any other, which reconnects with the current login.
      void this.client?.end().catch(() => undefined);
    });
    this.connecting ??= this.connect();
    return this.connecting;
  }

  get listening(): boolean {
    return this.client !== undefined;
  }

  async close(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    clearTimeout(this.timer);
    await this.connecting;
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const { options } = this;
    const client = new Client({
      connectionString: withLogin(options.connectionString, options.credentials?.current()),
      connectionTimeoutMillis: options.connectTimeoutMs ?? 2_000,
      keepAlive: true,
      application_name: `${options.applicationName ?? 'rag-api'} collection-changes`,
    });
    let lost = false;
    const onLost = (err?: Error) => {
      if (lost) return;
      lost = true;
      if (err) options.onError?.(err);
      if (this.client === client) {
        this.client = undefined;
        options.onListening(false);
      }
      client.end().catch(() => undefined);
      this.scheduleReconnect();
    };
    client.on('error', onLost);
    client.on('end', () => onLost());
    client.on('notification', (msg) => {
      if (msg.channel !== collectionChangesChannel) return;
      const change = decodeCollectionChange(msg.payload);
      if (change) options.onChange(change);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${collectionChangesChannel}`);
    } catch (err) {
      onLost(err as Error);
      return;
    } finally {
      this.connecting = undefined;
    }
    if (lost) return;
    if (this.stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    this.attempt = 0;
    this.client = client;
    options.onListening(true);
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    const delay = Math.min(
      50 * 2 ** Math.min(this.attempt++, 10),
      this.options.maxReconnectDelayMs ?? 2_000,
    );
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.connecting ??= this.connect();
    }, delay);
    this.timer.unref();
  }
}
