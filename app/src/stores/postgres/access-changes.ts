import type { Knex } from 'knex';
import type { DatabaseCredentials } from './database-credentials';
import { NotificationListener } from './notification-listener';

// Every change that takes access away from a principal (an API key revoked, the principal disabled
// or enabled, a role changed or removed) is announced with pg_notify inside the transaction that
// makes it, whoever makes it (an instance of the service, `npm run apikey`). Each instance listens
// and drops what its authentication caches hold of that principal the moment the change commits,
// instead of when AUTH_CACHE_TTL_MS runs out; the TTL stays as the bound when a notice is lost with
// a connection that died.

export const accessChangesChannel = 'rag_access_changes';

/** The notice's payload: the principal whose credentials or roles changed (null: anyone's). */
export function encodeAccessChange(principalId: string | null): string {
  return JSON.stringify({ p: principalId });
}

/** The principal a payload names, null for everyone, undefined for a payload that is not ours. */
export function decodeAccessChange(payload: string | undefined): string | null | undefined {
  try {
    const parsed = JSON.parse(payload ?? '') as { p?: unknown };
    if (parsed.p === null) return null;
    return typeof parsed.p === 'string' ? parsed.p : undefined;
  } catch {
    return undefined;
  }
}

/** Announces a change in the caller's transaction: delivered when (and only if) it commits. */
export async function notifyAccessChange(db: Knex, principalId: string | null): Promise<void> {
  await db.raw('SELECT pg_notify(?, ?)', [accessChangesChannel, encodeAccessChange(principalId)]);
}

export interface AccessChangeListenerOptions {
  readonly connectionString: string;
  readonly credentials?: DatabaseCredentials;
  /** A principal's credentials or roles changed (null: anyone's, or notices may have been lost). */
  readonly onChange: (principalId: string | null) => void;
  /** Called with false when the connection is lost and with true once LISTEN is in place again. */
  readonly onListening?: (listening: boolean) => void;
  readonly onError?: (err: Error) => void;
  readonly maxReconnectDelayMs?: number;
  readonly applicationName?: string;
}

export class AccessChangeListener {
  private readonly listener: NotificationListener;

  constructor(options: AccessChangeListenerOptions) {
    const { onChange, onListening, ...rest } = options;
    this.listener = new NotificationListener({
      ...rest,
      channels: [accessChangesChannel],
      label: 'access-changes',
      onNotification: (_channel, payload) => {
        const principalId = decodeAccessChange(payload);
        if (principalId !== undefined) onChange(principalId);
      },
      onListening: (listening) => {
        // Listening (again): a change may have committed unheard before, so nothing cached until
        // now can be trusted past this point.
        if (listening) onChange(null);
        onListening?.(listening);
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
