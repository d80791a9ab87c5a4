import { readFileSync } from 'node:fs';
import { z } from 'zod';

// Every setting the service reads, validated once at start-up. Unset optional dependencies select
// the embedded defaults: no DATABASE_URL → embedded Postgres, no REDIS_URL → memory cache,
// no QDRANT_URL → in-process vector index, no EMBEDDER_URL → local embedder, no CHAT_URL → extractive
// answers. Any `NAME_FILE` variable is read as the value of `NAME` (how Vault Agent hands secrets over).

const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const url = z.url({ protocol: /^https?$/ });
const postgresUrl = z.url({ protocol: /^postgres(ql)?$/ });
const redisUrl = z.url({ protocol: /^rediss?$/ });
const csv = <T extends z.ZodType<unknown, string>>(item: T) =>
  z
    .string()
    .transform((s) =>
      s
        .split(',')
        .map((p) => p.trim())
        .filter(Boolean),
    )
    .pipe(z.array(item));

export const configSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
    HOST: z.string().min(1).default('0.0.0.0'),
    PORT: int(0, 65535).default(8080),
    LOG_LEVEL: z.enum(['error', 'warn', 'info', 'http', 'debug', 'silent']).default('info'),
    SERVICE_NAME: z.string().min(1).default('rag-api'),
    /**
     * What this process runs: `api` serves HTTP only, `worker` consumes ingestion jobs (and serves
     * only health and metrics to its probes), `all` both (the embedded default and local runs).
     */
    PROCESS_ROLE: z.enum(['api', 'worker', 'all']).default('all'),

    DATABASE_URL: postgresUrl.optional(),
    DATABASE_REPLICA_URLS: csv(postgresUrl).default([]),
    DATABASE_POOL_MAX: int(1, 200).default(10),
    DATABASE_STATEMENT_TIMEOUT_MS: int(100, 600_000).default(5_000),
    DATABASE_LOCK_TIMEOUT_MS: int(10, 600_000).default(2_000),
    DATABASE_REPLICA_MAX_LAG_SECONDS: z.coerce.number().positive().default(5),
    DATABASE_REPLICA_CHECK_INTERVAL_MS: int(50, 60_000).default(1_000),
    /** Probe cadence of every dependency (what /readyz and rag_dependency_up reflect). */
    DEPENDENCY_CHECK_INTERVAL_MS: int(50, 60_000).default(2_000),
    EMBEDDED_POSTGRES_DIR: z.string().min(1).default('.data/postgres'),
    EMBEDDED_POSTGRES_PORT: int(1, 65535).default(54329),

    REDIS_URL: redisUrl.optional(),
    CACHE_TTL_SECONDS: int(1, 7 * 24 * 3600).default(3600),
    /** Longest life of an in-memory collection lookup (the query path's); 0 turns it off. */
    COLLECTION_CACHE_TTL_MS: int(0, 600_000).default(2_000),

    QDRANT_URL: url.optional(),
    QDRANT_API_KEY: z.string().min(1).optional(),
    QDRANT_TIMEOUT_MS: int(100, 120_000).default(5_000),

    EMBEDDER_URL: url.optional(),
    /** Names the vector space collections are tied to; the local embedder names its own. */
    EMBEDDER_MODEL: z.string().min(1).optional(),
    EMBEDDER_API_KEY: z.string().min(1).optional(),
    EMBEDDER_DIMENSIONS: int(8, 8192).default(384),
    EMBEDDER_BATCH_SIZE: int(1, 2048).default(64),
    EMBEDDER_TIMEOUT_MS: int(100, 120_000).default(10_000),

    CHAT_URL: url.optional(),
    CHAT_MODEL: z.string().min(1).default('gpt-4o-mini'),
    CHAT_API_KEY: z.string().min(1).optional(),
    CHAT_TIMEOUT_MS: int(100, 300_000).default(30_000),

    /**
     * Hybrid retrieval: full-text (Postgres) or sparse-vector (Qdrant) search fused with vector
     * search by reciprocal rank; `false` answers from vector search alone.
     */
    RETRIEVAL_HYBRID: bool.default(true),
    /** RRF's k (rag/retrieval/reciprocal-rank-fusion.ts): larger flattens the lists' heads. */
    RETRIEVAL_RRF_K: int(1, 1_000).default(60),

    CHUNK_SIZE: int(64, 16_384).default(800),
    CHUNK_OVERLAP: int(0, 4096).default(120),
    MAX_DOCUMENT_BYTES: int(1, 50 * 1024 * 1024).default(1024 * 1024),

    QUEUE_CONCURRENCY: int(1, 64).default(2),
    QUEUE_RETRY_LIMIT: int(0, 100).default(5),
    QUEUE_RETRY_DELAY_SECONDS: int(1, 3600).default(2),
    QUEUE_JOB_EXPIRE_SECONDS: int(1, 86_400).default(300),

    SHUTDOWN_DEADLINE_MS: int(0, 600_000).default(20_000),
    OTEL_EXPORTER_OTLP_ENDPOINT: url.optional(),

    DEMO_CORPUS_DIR: z.string().min(1).default('runbooks'),
    SEED_DEMO_CORPUS: bool.optional(),
    /** Fire drills only: a JSON file of faults to inject on the API routes (http/middleware/fault-injection.ts). */
    FAULT_INJECTION_FILE: z.string().min(1).optional(),
  })
  .strict()
  .refine((c) => c.CHUNK_OVERLAP < c.CHUNK_SIZE, {
    path: ['CHUNK_OVERLAP'],
    message: 'must be smaller than CHUNK_SIZE',
  })
  // Injected faults must never reach real users: a production process refuses to start with them.
  .refine((c) => c.NODE_ENV !== 'production' || !c.FAULT_INJECTION_FILE, {
    path: ['FAULT_INJECTION_FILE'],
    message: 'is for fire drills and is refused with NODE_ENV=production',
  })
  // A remote model must be named: the name is stored on every collection it embeds for, and a
  // default would let another model's vectors pass as compatible.
  .refine((c) => !c.EMBEDDER_URL || c.EMBEDDER_MODEL, {
    path: ['EMBEDDER_MODEL'],
    message: 'is required when EMBEDDER_URL is set',
  });

export type Config = z.infer<typeof configSchema>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const keys = new Set(Object.keys(configSchema.shape));

/** Reads the settings this service owns from an environment; other variables are ignored. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const raw: Record<string, string> = {};
  const problems: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || value === '') continue;
    if (name.endsWith('_FILE') && keys.has(name.slice(0, -'_FILE'.length))) {
      try {
        raw[name.slice(0, -'_FILE'.length)] = readFileSync(value, 'utf8').trim();
      } catch (err) {
        problems.push(`${name}: cannot read ${value} (${(err as NodeJS.ErrnoException).code})`);
      }
    } else if (keys.has(name)) {
      raw[name] ??= value;
    }
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      problems.push(`${issue.path.join('.') || '(config)'}: ${issue.message}`);
    }
  }
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems);
  return parsed.data;
}

/** Settings with secrets removed, for the start-up log line. */
export function describeConfig(config: Config): Record<string, unknown> {
  const secret = /(KEY|PASSWORD|TOKEN|SECRET)$/;
  return Object.fromEntries(
    Object.entries(config).map(([k, v]) => {
      if (secret.test(k) && v !== undefined) return [k, '[redacted]'];
      if (typeof v === 'string' && /^\w+:\/\//.test(v)) return [k, redactUrl(v)];
      if (Array.isArray(v)) return [k, v.map((x) => (typeof x === 'string' ? redactUrl(x) : x))];
      return [k, v];
    }),
  );
}

export function redactUrl(value: string): string {
  try {
    const u = new URL(value);
    if (u.password) u.password = 'redacted';
    return u.toString();
  } catch {
    return value;
  }
}
