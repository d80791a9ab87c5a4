import type { Config } from '../config';
import type { AccessChanged } from '../domain/access';
import type { Logger } from '../observability/logger';
import { AccessChangeListener } from '../stores/postgres/access-changes';
import type { Closers } from './closers';
import type { DataLayer } from './data-layer';

/**
 * Every instance's credential caches hear at once of a key revoked, a principal disabled or a role
 * changed anywhere (the access change notices, LISTEN on one dedicated connection to the primary),
 * so AUTH_CACHE_TTL_MS only bounds what a lost connection can delay.
 */
export async function startAccessChanges(
  config: Config,
  deps: { data: DataLayer; logger: Logger; closers: Closers; changed: AccessChanged },
): Promise<void> {
  const { data, logger, closers } = deps;
  // Nothing cached, nothing to drop: every request reads the database.
  if (config.AUTH_CACHE_TTL_MS <= 0) return;
  const listener = new AccessChangeListener({
    connectionString: data.primaryUrl,
    credentials: data.credentials,
    applicationName: config.SERVICE_NAME,
    onChange: deps.changed,
    onListening: (listening) => {
      if (!listening) {
        logger.warn('access change notices lost; revocations elsewhere count within the auth TTL', {
          authCacheTtlMs: config.AUTH_CACHE_TTL_MS,
        });
      }
    },
    onError: (err) => logger.debug('access change listener error', { err }),
  });
  await listener.start();
  closers.push(() => listener.close());
}
