import type { Metrics } from '../../observability/metrics';
import type { Cache } from '../../stores/cache/cache';
import { embeddingCacheKey } from '../../stores/cache/cache-keys';
import type { Embedder } from './embedder';

// Wraps an embedder with a cache so re-ingesting unchanged text and repeated questions skip the
// model. Lookups and stores are batched (one getMany / one setMany per call). The cache is an
// optimisation only: when it fails, the lookup counts as result="error" and every text goes to the
// inner embedder; a failed store is ignored. Vectors are stored as base64 of their Float32 bytes
// (~2 KB for 384 dims, a third of the JSON size, and exact).

export interface CachingEmbedderOptions {
  readonly metrics: Metrics;
  readonly ttlSeconds: number;
}

export class CachingEmbedder implements Embedder {
  readonly model: string;
  readonly dimensions: number;

  constructor(
    private readonly inner: Embedder,
    private readonly cache: Cache,
    private readonly options: CachingEmbedderOptions,
  ) {
    this.model = inner.model;
    this.dimensions = inner.dimensions;
  }

  async embed(texts: readonly string[], signal?: AbortSignal): Promise<Float32Array[]> {
    if (texts.length === 0) return [];
    const unique = [...new Set(texts)];
    const keys = unique.map((t) => embeddingCacheKey(this.model, this.dimensions, t));
    const counter = this.options.metrics.cacheRequests;

    let cached: (string | undefined)[];
    try {
      cached = await this.cache.getMany(keys);
    } catch {
      counter.inc({ cache: 'embedding', result: 'error' }, unique.length);
      cached = unique.map(() => undefined);
    }

    const found = new Map<string, Float32Array>();
    const missing: number[] = [];
    unique.forEach((text, i) => {
      const vector = cached[i] === undefined ? undefined : decode(cached[i]!, this.dimensions);
      if (vector) found.set(text, vector);
      else missing.push(i);
    });
    counter.inc({ cache: 'embedding', result: 'hit' }, found.size);
    counter.inc({ cache: 'embedding', result: 'miss' }, missing.length);

    if (missing.length > 0) {
      const fresh = await this.inner.embed(
        missing.map((i) => unique[i]),
        signal,
      );
      missing.forEach((i, j) => found.set(unique[i], fresh[j]));
      try {
        await this.cache.setMany(
          missing.map((i, j) => [keys[i], encode(fresh[j])] as const),
          this.options.ttlSeconds,
        );
      } catch {
        // The vectors are already computed; the next call will simply miss again.
      }
    }
    return texts.map((t) => found.get(t)!);
  }
}

export function encode(vector: Float32Array): string {
  return Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength).toString('base64');
}

/** Undefined for anything that is not exactly `dimensions` floats (a corrupt or foreign entry). */
export function decode(value: string, dimensions: number): Float32Array | undefined {
  const bytes = Buffer.from(value, 'base64');
  if (bytes.length !== dimensions * 4) return undefined;
  // Copy into a fresh, aligned buffer: Buffer pools may hand out unaligned offsets.
  const vector = new Float32Array(dimensions);
  new Uint8Array(vector.buffer).set(bytes);
  return vector;
}
