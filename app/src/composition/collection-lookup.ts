import type { Config } from '../config';
import type { Logger } from '../observability/logger';
import { CollectionChangeListener } from '../stores/postgres/collection-changes';
import { CollectionLookupCache } from '../use-cases/collection-lookup-cache';
import type { Closers } from './closers';
import type { DataLayer } from './data-layer';

/**
 * The query path's in-memory collection lookups, invalidated by the change notices every commit
 * sends through the primary (LISTEN on one dedicated connection per process).
 */
export async function startCollectionLookup(
  config: Config,
  deps: { data: DataLayer; logger: Logger; closers: Closers },
): Promise<CollectionLookupCache> {
  const { data, logger, closers } = deps;
  const cache = new CollectionLookupCache(data.collections, {
    ttlMs: config.COLLECTION_CACHE_TTL_MS,
  });
  if (config.COLLECTION_CACHE_TTL_MS <= 0) return cache;
  const listener = new CollectionChangeListener({
    connectionString: data.primaryUrl,
    credentials: data.credentials,
    applicationName: config.SERVICE_NAME,
    onChange: (change) => cache.invalidate(change.id, change.indexVersion),
    onListening: (listening) => {
      cache.setListening(listening);
      if (!listening) logger.warn('collection change notices lost; lookups read the database');
    },
    onError: (err) => logger.debug('collection change listener error', { err }),
  });
  await listener.start();
  closers.push(() => listener.close());
  return cache;
}
