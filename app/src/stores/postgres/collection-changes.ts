import type { DatabaseCredentials } from './database-credentials';
import { NotificationListener } from './notification-listener';

// Every change of a collection's searchable content (index version bump) and every collection
// delete is announced with pg_notify inside the transaction that makes it (collections-repository),
// so Postgres delivers the notice exactly when the change commits and never for a rollback. This
// listener holds one dedicated connection to the primary with LISTEN on that channel
// (notification-listener.ts); every instance of the service hears every commit, whoever made it.

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
  private readonly listener: NotificationListener;

  constructor(options: CollectionChangeListenerOptions) {
    const { onChange, ...rest } = options;
    this.listener = new NotificationListener({
      ...rest,
      channels: [collectionChangesChannel],
      label: 'collection-changes',
      onNotification: (_channel, payload) => {
        const change = decodeCollectionChange(payload);
        if (change) onChange(change);
      },
    });
  }

  /** Starts listening; resolves after the first attempt, connected or not (it keeps retrying). */
  start(): Promise<void> {
    return this.listener.start();
  }

  get listening(): boolean {
    return this.listener.listening;
  }

  close(): Promise<void> {
    return this.listener.close();
  }
}
