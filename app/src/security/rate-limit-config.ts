import { isIP } from 'node:net';
import { z } from 'zod';

// The shapes of the rate-limit settings (app/src/config.ts reads them; README "Rate limiting"
// documents them). Kept apart from config.ts so the middleware and its tests share one definition.

/** What an operation costs is decided by its class (http/middleware/rate-limit.ts classifies). */
export const operationClasses = ['read', 'write', 'query', 'ingest'] as const;
export type OperationClass = (typeof operationClasses)[number];

/**
 * Reads cost least; a query embeds the question and generates an answer (a model call), an ingest
 * chunks and embeds a whole document: the costs follow what each makes the service spend.
 */
export const defaultOperationCosts: Readonly<Record<OperationClass, number>> = {
  read: 1,
  write: 2,
  query: 5,
  ingest: 10,
};

/** Policy names go into structured-field strings: a plain token keeps them free of escapes. */
const tierName = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'tier names are 1-64 of A-Z a-z 0-9 _ . -');

export const tierSchema = z
  .object({
    /** Units refilled per second (fractions allowed: 0.5 is one unit every two seconds). */
    rate: z.number().positive().max(1_000_000),
    /** Units that can be spent at once; also the quota advertised in RateLimit-Policy. */
    burst: z.number().int().min(1).max(1_000_000),
  })
  .strict();
export type Tier = z.infer<typeof tierSchema>;

/** `default` serves principals whose tier is not listed; `ip` bounds each client address. */
export const defaultTiers: Readonly<Record<string, Tier>> = {
  default: { rate: 20, burst: 100 },
  ip: { rate: 100, burst: 400 },
};

/** A JSON-valued setting, validated by `schema` after parsing. */
export function jsonSetting<T extends z.ZodType>(schema: T) {
  return z
    .string()
    .transform((s, ctx) => {
      try {
        return JSON.parse(s) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'is not valid JSON' });
        return z.NEVER;
      }
    })
    .pipe(schema);
}

export const tiersSchema = z
  .record(tierName, tierSchema)
  .refine((t) => 'default' in t, { message: 'must define the tier "default"' });

export const costsSchema = z
  .object(
    Object.fromEntries(
      operationClasses.map((c) => [c, z.number().int().min(1).max(1_000_000).optional()]),
    ) as Record<OperationClass, z.ZodOptional<z.ZodNumber>>,
  )
  .strict()
  .transform((c) => ({ ...defaultOperationCosts, ...stripUndefined(c) }));

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** `a.b.c.d`, `a.b.c.d/n`, an IPv6 address or an IPv6 prefix. */
export function isAddressOrCidr(value: string): boolean {
  const slash = value.indexOf('/');
  const address = slash < 0 ? value : value.slice(0, slash);
  const family = isIP(address);
  if (family === 0) return false;
  if (slash < 0) return true;
  const bits = value.slice(slash + 1);
  if (!/^\d{1,3}$/.test(bits)) return false;
  return Number(bits) <= (family === 4 ? 32 : 128);
}

export const cidrSchema = z
  .string()
  .refine(isAddressOrCidr, { message: 'is not an IP address or CIDR (a.b.c.d/n, ipv6/n)' });

/**
 * Which peers are proxies whose X-Forwarded-For may name the client (Express `trust proxy`):
 * `false` none (the socket's peer is the client), a number of hops (the nearest N peers are
 * proxies), or the proxies' addresses/CIDRs. Anything a client itself adds to the header is
 * ignored either way: only entries written by trusted proxies are read, from the right.
 */
export const trustProxySchema = z.string().transform((s, ctx): false | number | string[] => {
  const v = s.trim();
  if (v === 'false' || v === '0') return false;
  if (/^\d+$/.test(v)) return Number(v);
  const entries = v
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  for (const entry of entries) {
    if (!isAddressOrCidr(entry)) {
      ctx.addIssue({
        code: 'custom',
        message: `${entry} is not a hop count, false, an IP address or a CIDR`,
      });
      return z.NEVER;
    }
  }
  return entries;
});
