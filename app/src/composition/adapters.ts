import type { Config } from '../config';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import type { Answerer } from '../rag/answering/answerer';
import { ChatAnswerer } from '../rag/answering/chat-answerer';
import { CachingEmbedder } from '../rag/embedding/caching-embedder';
import type { Embedder } from '../rag/embedding/embedder';
import { HttpEmbedder } from '../rag/embedding/http-embedder';
import { LocalEmbedder } from '../rag/embedding/local-embedder';
import type { Cache } from '../stores/cache/cache';
import { MemoryCache } from '../stores/cache/memory-cache';
import { RedisCache } from '../stores/cache/redis-cache';
import { InProcessVectorStore } from '../stores/vector/in-process-vector-store';
import { QdrantVectorStore } from '../stores/vector/qdrant-vector-store';
import type { VectorStore } from '../stores/vector/vector-store';
import type { LexicalSearch } from '../domain/lexical-search';
import type { Database } from '../stores/postgres/database';
import { PostgresLexicalSearch } from '../stores/postgres/lexical-search-repository';

// Every optional dependency and its embedded default, chosen here and nowhere else: the rest of
// the code only sees the interfaces.

export async function createCache(
  config: Config,
  logger: Logger,
  onError: (err: Error) => void,
): Promise<Cache> {
  if (!config.REDIS_URL) return new MemoryCache();
  const redis = new RedisCache(config.REDIS_URL, {
    clientSideCacheEntries: config.CACHE_CLIENT_SIDE_ENTRIES,
    onError: (err) => {
      logger.debug('redis connection error', { err });
      onError(err);
    },
  });
  // Starting without Redis is allowed (the cache is an optimisation); it reconnects by itself.
  await redis.waitUntilReady(2_000).catch((err) => logger.warn('starting without redis', { err }));
  return redis;
}

export function createEmbedder(config: Config, cache: Cache, metrics: Metrics): Embedder {
  if (!config.EMBEDDER_URL) {
    // The local embedder costs microseconds per text: caching it would only add a round trip.
    return new LocalEmbedder(config.EMBEDDER_DIMENSIONS);
  }
  const remote = new HttpEmbedder({
    url: config.EMBEDDER_URL,
    model: config.EMBEDDER_MODEL!,
    dimensions: config.EMBEDDER_DIMENSIONS,
    apiKey: config.EMBEDDER_API_KEY,
    batchSize: config.EMBEDDER_BATCH_SIZE,
    timeoutMs: config.EMBEDDER_TIMEOUT_MS,
  });
  return new CachingEmbedder(remote, cache, { metrics, ttlSeconds: config.CACHE_TTL_SECONDS });
}

export function createVectorStore(config: Config, embedder: Embedder): VectorStore {
  return config.QDRANT_URL
    ? new QdrantVectorStore({
        url: config.QDRANT_URL,
        apiKey: config.QDRANT_API_KEY,
        timeoutMs: config.QDRANT_TIMEOUT_MS,
        model: embedder.model,
        dimensions: embedder.dimensions,
      })
    : new InProcessVectorStore(embedder.dimensions);
}

/**
 * The lexical half of hybrid retrieval, beside the vectors it is fused with: Qdrant's sparse
 * vectors when Qdrant holds the vectors, Postgres full text otherwise. Undefined when off.
 */
export function createLexicalSearch(
  config: Config,
  deps: { db: Database; vectors: VectorStore },
): LexicalSearch | undefined {
  if (!config.RETRIEVAL_HYBRID) return undefined;
  return deps.vectors instanceof QdrantVectorStore
    ? deps.vectors.sparseSearch()
    : new PostgresLexicalSearch(deps.db);
}

/** The configured chat endpoint, or the extractive answerer, which is also the fallback. */
export function createAnswerer(config: Config, extractive: Answerer): Answerer {
  return config.CHAT_URL
    ? new ChatAnswerer({
        url: config.CHAT_URL,
        model: config.CHAT_MODEL,
        apiKey: config.CHAT_API_KEY,
        timeoutMs: config.CHAT_TIMEOUT_MS,
      })
    : extractive;
}
