import { BlockList, isIPv4 } from 'node:net';
import type { RateLimitPolicy } from '../domain/rate-limit';
import type { OperationClass, Tier } from './rate-limit-config';

// Who is limited by which quota, and what each operation costs: the settings resolved once at
// start-up into what a request needs (maps, address lists, the headers' fixed parts), so deciding
// a request allocates next to nothing.

export interface AdvertisedPolicy extends RateLimitPolicy {
  /**
   * The RateLimit-Policy item (draft-ietf-httpapi-ratelimit-headers-11 §3): quota `q` = the burst,
   * window `w` = the seconds the burst takes to refill, so q/w is the sustained rate.
   */
  readonly header: string;
}

export interface RateLimitRules {
  readonly tiers: ReadonlyMap<string, AdvertisedPolicy>;
  /** For principals whose tier is not configured. */
  readonly defaultTier: AdvertisedPolicy;
  /** Every client address's quota: all unauthenticated traffic, and an outer bound for the rest. */
  readonly ipTier: AdvertisedPolicy;
  readonly costs: Readonly<Record<OperationClass, number>>;
  readonly allowPrincipals: ReadonlySet<string>;
  readonly denyPrincipals: ReadonlySet<string>;
  readonly allowAddresses?: BlockList;
  readonly denyAddresses?: BlockList;
}

export interface RateLimitRuleSettings {
  readonly RATE_LIMIT_TIERS: Readonly<Record<string, Tier>>;
  readonly RATE_LIMIT_IP_TIER: string;
  readonly RATE_LIMIT_COSTS: Readonly<Record<OperationClass, number>>;
  readonly RATE_LIMIT_ALLOW_PRINCIPALS: readonly string[];
  readonly RATE_LIMIT_DENY_PRINCIPALS: readonly string[];
  readonly RATE_LIMIT_ALLOW_CIDRS: readonly string[];
  readonly RATE_LIMIT_DENY_CIDRS: readonly string[];
}

export function advertisedPolicy(name: string, tier: Tier): AdvertisedPolicy {
  const window = Math.max(1, Math.ceil(tier.burst / tier.rate));
  return { name, ...tier, header: `"${name}";q=${tier.burst};w=${window}` };
}

export function rateLimitRules(settings: RateLimitRuleSettings): RateLimitRules {
  const tiers = new Map(
    Object.entries(settings.RATE_LIMIT_TIERS).map(([name, t]) => [name, advertisedPolicy(name, t)]),
  );
  const tier = (name: string) => {
    const found = tiers.get(name);
    if (!found) throw new Error(`rate-limit tier ${name} is not configured`);
    return found;
  };
  return {
    tiers,
    defaultTier: tier('default'),
    ipTier: tier(settings.RATE_LIMIT_IP_TIER),
    costs: settings.RATE_LIMIT_COSTS,
    allowPrincipals: new Set(settings.RATE_LIMIT_ALLOW_PRINCIPALS),
    denyPrincipals: new Set(settings.RATE_LIMIT_DENY_PRINCIPALS),
    allowAddresses: addressList(settings.RATE_LIMIT_ALLOW_CIDRS),
    denyAddresses: addressList(settings.RATE_LIMIT_DENY_CIDRS),
  };
}

function addressList(entries: readonly string[]): BlockList | undefined {
  if (entries.length === 0) return undefined;
  const list = new BlockList();
  for (const entry of entries) {
    const [address, bits] = entry.split('/');
    const family = isIPv4(address) ? 'ipv4' : 'ipv6';
    if (bits === undefined) list.addAddress(address, family);
    else list.addSubnet(address, Number(bits), family);
  }
  return list;
}

/** Whether a client address is on a list (an IPv4-mapped IPv6 address matches its IPv4 rules). */
export function listed(list: BlockList | undefined, address: string): boolean {
  if (!list) return false;
  return list.check(address, isIPv4(address) ? 'ipv4' : 'ipv6');
}

// Express matches routes case-insensitively (and ignores a trailing slash): so does this.
const v1Path = /^\/v1(?:\/|$)/i;
const queryPath = /^\/v1\/query\/?$/i;
const ingestPath = /^\/v1\/collections\/[^/]+\/documents(?:\/[^/]+\/retry)?\/?$/i;

/** Only the API is limited: health, metrics and the API description stay reachable. */
export function isLimitedPath(path: string): boolean {
  return v1Path.test(path);
}

/** An ingest or a re-queued ingest; a query (an answer is generated); other writes; reads. */
export function operationClass(method: string, path: string): OperationClass {
  if (method === 'GET' || method === 'HEAD' || method === 'OPTIONS') return 'read';
  if (method === 'POST') {
    if (queryPath.test(path)) return 'query';
    if (ingestPath.test(path)) return 'ingest';
  }
  return 'write';
}
