import { readFileSync } from 'node:fs';
import { z } from 'zod';
import {
  cidrSchema,
  costsSchema,
  defaultOperationCosts,
  defaultTiers,
  jsonSetting,
  tiersSchema,
  trustProxySchema,
} from './security/rate-limit-config';

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
    /**
     * Redis replies kept in process under server-assisted invalidation (RESP3 CLIENT TRACKING,
     * Redis 6+); 0 turns it off for a server that refuses CLIENT TRACKING.
     */
    CACHE_CLIENT_SIDE_ENTRIES: int(0, 1_000_000).default(10_000),
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

    /**
     * Browser origins allowed to call the API (exact `scheme://host[:port]`, `*` outside production).
     * Empty: no cross-origin access. Production refuses `*` and loopback origins.
     */
    CORS_ALLOWED_ORIGINS: csv(z.string().min(1)).default([]),
    /** A whole request (headers and body) must arrive within this; slow uploads are cut off. */
    HTTP_REQUEST_TIMEOUT_MS: int(1_000, 600_000).default(30_000),
    /** The headers must arrive within this: a slowloris client holds a socket no longer. */
    HTTP_HEADERS_TIMEOUT_MS: int(500, 600_000).default(10_000),
    /**
     * Idle keep-alive connections are closed after this. Behind a proxy it must exceed the proxy's
     * own idle timeout (the ALB's is 60 s), or the server closes a connection the proxy is about to
     * reuse and the proxy's request gets a reset.
     */
    HTTP_KEEP_ALIVE_TIMEOUT_MS: int(1_000, 600_000).default(65_000),
    /** Open connections per process; those above are closed on accept. */
    HTTP_MAX_CONNECTIONS: int(1, 1_000_000).default(2_000),
    /**
     * When set, /metrics and the readiness detail are served on this port only (for the in-cluster
     * scraper and operators), and the main port's /readyz answers with its status alone.
     */
    INTERNAL_PORT: int(0, 65535).optional(),
    /**
     * Whether answers say if they came from the cache (`cached`) and carry a `Server-Timing` header.
     * Both tell one caller about what others asked; default on outside production only.
     */
    EXPOSE_QUERY_DIAGNOSTICS: bool.optional(),

    // JWT access and refresh tokens (app/src/security/jwt/).
    /** The `iss` of every access token this service issues and accepts. */
    JWT_ISSUER: z.string().min(1).default('rag-platform'),
    /** The `aud` of every access token this service issues and accepts. */
    JWT_AUDIENCE: z.string().min(1).default('rag-api'),
    /**
     * A directory of signing keys, one file per kid (how Vault Agent renders them; see
     * security/jwt/key-directory.ts), re-read on change. Unset outside production: a key generated
     * at start (tokens die with the process). Unset in production: no tokens are issued or accepted.
     */
    JWT_SIGNING_KEYS_DIR: z.string().min(1).optional(),
    /**
     * The signing keys as one file, a JSON object of `jwt-` fields (how one Vault Agent template
     * renders them from `secret/rag-api/keys`; see security/jwt/key-bundle.ts), re-read on change.
     * The alternative to JWT_SIGNING_KEYS_DIR (never both), with the same meaning when unset.
     */
    JWT_SIGNING_KEYS_FILE: z.string().min(1).optional(),
    /** Backstop re-read of the signing keys, for volumes where change events do not arrive. */
    JWT_SIGNING_KEYS_POLL_MS: int(100, 600_000).default(10_000),
    JWT_ACCESS_TTL_SECONDS: int(30, 24 * 3600).default(15 * 60),
    JWT_REFRESH_TTL_SECONDS: int(60, 90 * 24 * 3600).default(7 * 24 * 3600),

    OTEL_EXPORTER_OTLP_ENDPOINT: url.optional(),

    DEMO_CORPUS_DIR: z.string().min(1).default('runbooks'),
    SEED_DEMO_CORPUS: bool.optional(),
    /** Fire drills only: a JSON file of faults to inject on the API routes (http/middleware/fault-injection.ts). */
    FAULT_INJECTION_FILE: z.string().min(1).optional(),

    // Database credentials and least-privilege roles (catalog/database-roles.ts).
    /**
     * Where migrations run (at start-up and `npm run migrate`): the schema owner's login. When set,
     * the service never runs DDL with DATABASE_URL's credentials, which then need DML only.
     */
    MIGRATION_DATABASE_URL: postgresUrl.optional(),
    /**
     * A file with the service's database login (what Vault Agent renders from the database secrets
     * engine): JSON `{"username", "password"}` or a postgres URL whose user and password are taken.
     * It replaces the user and password of DATABASE_URL and DATABASE_REPLICA_URLS, and is re-read
     * when it changes: new connections use the new login, pooled ones of the old login drain.
     */
    DATABASE_CREDENTIALS_FILE: z.string().min(1).optional(),
    /** How often the credentials file is re-read even without a change event (a backstop). */
    DATABASE_CREDENTIALS_CHECK_INTERVAL_MS: int(100, 600_000).default(10_000),
    // Rate limiting (http/middleware/rate-limit.ts; README "Rate limiting").
    /** Whether /v1 requests are rate limited; default on in production only. */
    RATE_LIMIT_ENABLED: bool.optional(),
    /** Named tiers, JSON `{"name": {"rate": units/s, "burst": units}}`; must define `default`. */
    RATE_LIMIT_TIERS: jsonSetting(tiersSchema).default({ ...defaultTiers }),
    /** The tier every client address is held to (unauthenticated, and an outer bound). */
    RATE_LIMIT_IP_TIER: z.string().min(1).default('ip'),
    /** Units per operation class, JSON `{"read":1,"write":2,"query":5,"ingest":10}` (partial ok). */
    RATE_LIMIT_COSTS: jsonSetting(costsSchema).default({ ...defaultOperationCosts }),
    /** Principals and client addresses never limited, and those always refused (403). */
    RATE_LIMIT_ALLOW_PRINCIPALS: csv(z.string().min(1)).default([]),
    RATE_LIMIT_DENY_PRINCIPALS: csv(z.string().min(1)).default([]),
    RATE_LIMIT_ALLOW_CIDRS: csv(cidrSchema).default([]),
    RATE_LIMIT_DENY_CIDRS: csv(cidrSchema).default([]),
    /** With Redis unreachable each process enforces 1/this of every tier (its share of the fleet). */
    RATE_LIMIT_EXPECTED_REPLICAS: int(1, 10_000).default(1),
    /** Longest wait for a Redis decision before this process falls back to its own share. */
    RATE_LIMIT_REDIS_TIMEOUT_MS: int(5, 5_000).default(100),
    /**
     * Proxies whose X-Forwarded-For names the client (Express `trust proxy`): `false`, a hop count,
     * or their CIDRs. The client address keys the per-IP limit and the allow/deny lists.
     */
    HTTP_TRUST_PROXY: trustProxySchema.default(false),
    // Authentication (app/src/security/).
    /**
     * Server-side secret API keys are hashed with (HMAC-SHA-256), 32 bytes or more; usually
     * API_KEY_PEPPER_FILE. Required with NODE_ENV=production; elsewhere a fixed development pepper.
     */
    API_KEY_PEPPER: z.string().min(32).optional(),
    /**
     * Longest life of a verified API key (and its principal's roles) in memory. A revocation, a
     * principal disabled or a role removed anywhere counts everywhere as soon as its access change
     * notice arrives; this is the bound should a notice be lost with the listening connection.
     */
    AUTH_CACHE_TTL_MS: int(0, 60_000).default(5_000),
    /** Failed authentications audited per process and minute; the rest are counted, not written. */
    AUTH_FAILURE_AUDIT_PER_MINUTE: int(0, 100_000).default(60),
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
  })
  // The file's login replaces the user of the URLs it applies to: without one there is none.
  .refine((c) => !c.DATABASE_CREDENTIALS_FILE || c.DATABASE_URL, {
    path: ['DATABASE_CREDENTIALS_FILE'],
    message: 'needs DATABASE_URL (the host it logs in to)',
  })
  // Two sources of signing keys would leave which one signs to chance.
  .refine((c) => !(c.JWT_SIGNING_KEYS_DIR && c.JWT_SIGNING_KEYS_FILE), {
    path: ['JWT_SIGNING_KEYS_FILE'],
    message: 'excludes JWT_SIGNING_KEYS_DIR: set one of them',
  })
  // Node refuses a headers timeout longer than the request timeout.
  .refine((c) => c.HTTP_HEADERS_TIMEOUT_MS <= c.HTTP_REQUEST_TIMEOUT_MS, {
    path: ['HTTP_HEADERS_TIMEOUT_MS'],
    message: 'must not exceed HTTP_REQUEST_TIMEOUT_MS',
  })
  .superRefine((c, ctx) => {
    if (!(c.RATE_LIMIT_IP_TIER in c.RATE_LIMIT_TIERS))
      ctx.addIssue({
        code: 'custom',
        path: ['RATE_LIMIT_IP_TIER'],
        message: `names no tier of RATE_LIMIT_TIERS (${Object.keys(c.RATE_LIMIT_TIERS).join(', ')})`,
      });
    // A burst below an operation's cost would refuse that operation forever, with a Retry-After
    // that lies: every tier must afford the dearest operation at least once.
    const dearest = Math.max(...Object.values(c.RATE_LIMIT_COSTS));
    for (const [name, tier] of Object.entries(c.RATE_LIMIT_TIERS))
      if (tier.burst < dearest)
        ctx.addIssue({
          code: 'custom',
          path: ['RATE_LIMIT_TIERS', name, 'burst'],
          message: `must be at least the dearest operation's cost (${dearest})`,
        });
  })
  .superRefine((c, ctx) => {
    for (const origin of c.CORS_ALLOWED_ORIGINS) {
      const problem = corsOriginProblem(origin, c.NODE_ENV === 'production');
      if (problem)
        ctx.addIssue({ code: 'custom', path: ['CORS_ALLOWED_ORIGINS'], message: problem });
    }
  });

/** RATE_LIMIT_ENABLED with its default: on in production. */
export function rateLimitingEnabled(config: Config): boolean {
  return config.RATE_LIMIT_ENABLED ?? config.NODE_ENV === 'production';
}

/** EXPOSE_QUERY_DIAGNOSTICS with its default: on outside production. */
export function exposesQueryDiagnostics(config: Config): boolean {
  return config.EXPOSE_QUERY_DIAGNOSTICS ?? config.NODE_ENV !== 'production';
}

const loopbackHosts = new Set(['localhost', '127.0.0.1', '[::1]', '0.0.0.0']);

/** Why an allowed origin is refused, if it is: a browser compares origins exactly. */
function corsOriginProblem(origin: string, production: boolean): string | undefined {
  if (origin === '*') return production ? 'wildcard origin is refused in production' : undefined;
  let parsed: URL;
  try {
    parsed = new URL(origin);
  } catch {
    return `${origin} is not an origin`;
  }
  if (!['http:', 'https:'].includes(parsed.protocol) || parsed.origin !== origin)
    return `${origin} is not an origin (scheme://host[:port], no path or trailing slash)`;
  if (!production) return undefined;
  const host = parsed.hostname;
  if (loopbackHosts.has(host) || host.endsWith('.localhost') || host.startsWith('127.'))
    return `loopback origin ${origin} is refused in production`;
  if (parsed.protocol !== 'https:') return `${origin} must use https in production`;
  return undefined;
}

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
  const secret = /(KEY|PASSWORD|TOKEN|SECRET|PEPPER)$/;
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
