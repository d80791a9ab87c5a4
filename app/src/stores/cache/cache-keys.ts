import { hash } from 'node:crypto';

// Cache keys are hashes of a canonical JSON form, so two requests that mean the same thing share an
// entry regardless of property order, and no user text ends up in a Redis key verbatim.

type Json = string | number | boolean | null | undefined | readonly Json[] | { [k: string]: Json };

/** JSON with object keys sorted at every level; `undefined` members are dropped like JSON.stringify. */
export function canonicalJson(value: Json): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v)).join(',')}]`;
  const entries = Object.entries(value as Record<string, Json>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** One call (crypto.hash, Node ≥ 20.12), without a Hash object per key: every query computes one. */
export function sha256Hex(text: string): string {
  return hash('sha256', text, 'hex');
}

export interface QueryCacheKeyInput {
  readonly collectionId: string;
  /** Bumped on every ingest/re-ingest/delete in the collection, so stale answers are unreachable. */
  readonly indexVersion: number | string;
  readonly query: string;
  readonly topK: number;
  readonly filter?: {
    readonly documentIds?: readonly string[];
    readonly metadata?: Readonly<Record<string, string>>;
  };
  readonly model: string;
}

/**
 * Key of a cached query answer. The collection id stays readable in the key (so an operator can
 * find a tenant's entries); everything else is hashed. Document-id filters are order-insensitive.
 */
export function queryCacheKey(input: QueryCacheKeyInput): string {
  return `rag:q:${input.collectionId}:${sha256Hex(queryCacheCanonical(input))}`;
}

/**
 * What a query cache key hashes: canonicalJson of the inputs that matter, written out member by
 * member in canonical (sorted) order, since every cached query computes it.
 */
export function queryCacheCanonical(input: QueryCacheKeyInput): string {
  const filter = input.filter;
  let canonical = '{';
  if (filter?.documentIds) {
    canonical += `"documentIds":${canonicalJson([...new Set(filter.documentIds)].sort())},`;
  }
  canonical += `"indexVersion":${JSON.stringify(String(input.indexVersion))},`;
  if (filter?.metadata) canonical += `"metadata":${canonicalJson({ ...filter.metadata })},`;
  canonical += `"model":${JSON.stringify(input.model)},"query":${JSON.stringify(input.query)},`;
  // v2: entries hold the answer without `cached` (v1 entries had it and are never read again).
  return `${canonical}"topK":${canonicalJson(input.topK)},"v":2}`;
}

/** Key of a cached embedding: the same text embedded by another model or size is another entry. */
export function embeddingCacheKey(model: string, dimensions: number, text: string): string {
  return `rag:e:${model}:${dimensions}:${sha256Hex(text)}`;
}
