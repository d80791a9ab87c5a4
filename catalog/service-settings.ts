// The names of the environment variables the service reads (app/src/config.ts validates their
// values). infra/ sets them on the Deployment and refuses a stack setting the service does not
// know, so the names are part of the service definition; an app test keeps the list equal to the
// keys of the service's configuration schema.

export const serviceSettingNames = [
  'NODE_ENV',
  'HOST',
  'PORT',
  'LOG_LEVEL',
  'SERVICE_NAME',
  'DATABASE_URL',
  'DATABASE_REPLICA_URLS',
  'DATABASE_POOL_MAX',
  'DATABASE_STATEMENT_TIMEOUT_MS',
  'DATABASE_LOCK_TIMEOUT_MS',
  'DATABASE_REPLICA_MAX_LAG_SECONDS',
  'DATABASE_REPLICA_CHECK_INTERVAL_MS',
  'EMBEDDED_POSTGRES_DIR',
  'EMBEDDED_POSTGRES_PORT',
  'REDIS_URL',
  'CACHE_TTL_SECONDS',
  'QDRANT_URL',
  'QDRANT_API_KEY',
  'QDRANT_TIMEOUT_MS',
  'EMBEDDER_URL',
  'EMBEDDER_MODEL',
  'EMBEDDER_API_KEY',
  'EMBEDDER_DIMENSIONS',
  'EMBEDDER_BATCH_SIZE',
  'EMBEDDER_TIMEOUT_MS',
  'CHAT_URL',
  'CHAT_MODEL',
  'CHAT_API_KEY',
  'CHAT_TIMEOUT_MS',
  'CHUNK_SIZE',
  'CHUNK_OVERLAP',
  'MAX_DOCUMENT_BYTES',
  'QUEUE_CONCURRENCY',
  'QUEUE_RETRY_LIMIT',
  'QUEUE_RETRY_DELAY_SECONDS',
  'QUEUE_JOB_EXPIRE_SECONDS',
  'SHUTDOWN_DEADLINE_MS',
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'DEMO_CORPUS_DIR',
  'SEED_DEMO_CORPUS',
] as const;

export type ServiceSettingName = (typeof serviceSettingNames)[number];
