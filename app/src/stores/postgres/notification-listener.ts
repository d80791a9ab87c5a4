import { Client } from 'pg';
import { withLogin, type DatabaseCredentials } from './database-credentials';

// One dedicated connection to the primary with LISTEN on a set of channels, kept open: reconnects
// with backoff when it drops and says so (notices sent meanwhile are lost, so whoever caches on
// the strength of them must distrust what it holds). Senders call pg_notify inside the transaction
// that makes the change, so Postgres delivers a notice exactly when the change commits and never
// for a rollback. The collection change notices and the access change notices each hold one.

export interface NotificationListenerOptions {
  readonly connectionString: string;
  /** Channel names: plain lower-case identifiers (they are written into LISTEN as they are). */
  readonly channels: readonly string[];
  /**
   * The login to use instead of the URL's. On a change the connection is closed and opened again
   * with the new login, so the old login is left unused.
   */
  readonly credentials?: DatabaseCredentials;
  readonly onNotification: (channel: string, payload: string | undefined) => void;
  /**
   * Called with false as soon as the connection is lost (notices may be missed from then on) and
   * with true once LISTEN is in place again: whatever was cached before may have missed changes.
   */
  readonly onListening: (listening: boolean) => void;
  readonly onError?: (err: Error) => void;
  /** Longest pause between reconnect attempts, in ms. Default 2,000. */
  readonly maxReconnectDelayMs?: number;
  readonly connectTimeoutMs?: number;
  /** Shown in pg_stat_activity: `<applicationName> <label>`. */
  readonly applicationName?: string;
  readonly label: string;
}

const channelPattern = /^[a-z_][a-z0-9_]{0,62}$/;

export class NotificationListener {
  private client: Client | undefined;
  private stopped = false;
  private attempt = 0;
  private timer: NodeJS.Timeout | undefined;
  private connecting: Promise<void> | undefined;
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly options: NotificationListenerOptions) {
    for (const channel of options.channels) {
      if (!channelPattern.test(channel)) throw new Error(`not a channel name: ${channel}`);
    }
  }

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
      application_name: `${options.applicationName ?? 'rag-api'} ${options.label}`,
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
      if (options.channels.includes(msg.channel)) options.onNotification(msg.channel, msg.payload);
    });
    try {
      await client.connect();
      for (const channel of options.channels) await client.query(`LISTEN ${channel}`);
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
