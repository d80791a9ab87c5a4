import type { VectorHit, VectorPoint, VectorSearchRequest, VectorStore } from './vector-store';
import { checkTopK, unitVector } from './vector-errors';

// The embedded default's vector index: exact cosine search, one contiguous Float32Array per
// collection (vectors are stored unit-length, so cosine is a dot product over a cache-friendly
// scan). Exact search is the right trade at this scale: 10,000 chunks × 384 dims is 15 MB and a
// full scan takes a few ms (see app/bench/vector-search.ts), with perfect recall, no build step and
// no tuning. Beyond ~100k chunks per collection, use Qdrant (HNSW) instead.
// Deletion moves the last vector into the freed slot, so storage stays dense.

interface Collection {
  vectors: Float32Array;
  count: number;
  ids: string[];
  documentIds: string[];
  metadata: (Readonly<Record<string, string>> | undefined)[];
  slotOf: Map<string, number>;
}

export class InProcessVectorStore implements VectorStore {
  readonly kind = 'in-process' as const;
  private readonly collections = new Map<string, Collection>();

  constructor(readonly dimensions: number) {
    if (!Number.isInteger(dimensions) || dimensions < 1) {
      throw new RangeError(`dimensions must be a positive integer, got ${dimensions}`);
    }
  }

  async ensureReady(): Promise<void> {}

  /** Points stored in one collection (for tests and the readiness detail). */
  size(collectionId: string): number {
    return this.collections.get(collectionId)?.count ?? 0;
  }

  async upsert(points: readonly VectorPoint[]): Promise<void> {
    // Validate everything first so a bad point leaves the index untouched.
    const vectors = points.map((p) => unitVector(p.vector, this.dimensions));
    points.forEach((point, i) => {
      const c = this.collection(point.payload.collectionId, true)!;
      let slot = c.slotOf.get(point.id);
      if (slot === undefined) {
        slot = c.count++;
        this.grow(c);
        c.ids[slot] = point.id;
        c.slotOf.set(point.id, slot);
      }
      c.vectors.set(vectors[i], slot * this.dimensions);
      c.documentIds[slot] = point.payload.documentId;
      c.metadata[slot] = point.payload.metadata ? { ...point.payload.metadata } : undefined;
    });
  }

  async search(request: VectorSearchRequest): Promise<VectorHit[]> {
    checkTopK(request.topK);
    const query = unitVector(request.vector, this.dimensions);
    const c = this.collection(request.collectionId, false);
    if (!c) return [];
    const accept = filterOf(request.filter);
    const dims = this.dimensions;
    const vectors = c.vectors;
    const k = Math.min(request.topK, c.count);
    // Top-k kept sorted descending; k is small, so insertion beats a heap.
    const topSlots = new Int32Array(k);
    const topScores = new Float64Array(k).fill(-Infinity);
    let filled = 0;
    for (let slot = 0; slot < c.count; slot++) {
      if (accept && !accept(c, slot)) continue;
      const score = dot(vectors, slot * dims, query, dims);
      if (filled === k && score <= topScores[k - 1]) continue;
      let at = filled < k ? filled++ : k - 1;
      while (at > 0 && topScores[at - 1] < score) {
        topScores[at] = topScores[at - 1];
        topSlots[at] = topSlots[at - 1];
        at--;
      }
      topScores[at] = score;
      topSlots[at] = slot;
    }
    const hits: VectorHit[] = [];
    for (let i = 0; i < filled; i++) {
      const slot = topSlots[i];
      hits.push({ id: c.ids[slot], documentId: c.documentIds[slot], score: topScores[i] });
    }
    return hits;
  }

  async deleteDocument(
    collectionId: string,
    documentId: string,
    keepIds: readonly string[] = [],
  ): Promise<void> {
    const c = this.collection(collectionId, false);
    if (!c) return;
    const keep = new Set(keepIds);
    // Walk backwards: removal moves the last slot into the hole, which was already visited.
    for (let slot = c.count - 1; slot >= 0; slot--) {
      if (c.documentIds[slot] === documentId && !keep.has(c.ids[slot])) this.remove(c, slot);
    }
  }

  async deleteCollection(collectionId: string): Promise<void> {
    this.collections.delete(collectionId);
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    this.collections.clear();
  }

  private collection(id: string, create: boolean): Collection | undefined {
    let c = this.collections.get(id);
    if (!c && create) {
      c = {
        vectors: new Float32Array(64 * this.dimensions),
        count: 0,
        ids: [],
        documentIds: [],
        metadata: [],
        slotOf: new Map(),
      };
      this.collections.set(id, c);
    }
    return c;
  }

  private grow(c: Collection): void {
    if (c.count * this.dimensions <= c.vectors.length) return;
    const bigger = new Float32Array(c.vectors.length * 2);
    bigger.set(c.vectors);
    c.vectors = bigger;
  }

  private remove(c: Collection, slot: number): void {
    const last = c.count - 1;
    c.slotOf.delete(c.ids[slot]);
    if (slot !== last) {
      c.vectors.copyWithin(
        slot * this.dimensions,
        last * this.dimensions,
        c.count * this.dimensions,
      );
      c.ids[slot] = c.ids[last];
      c.documentIds[slot] = c.documentIds[last];
      c.metadata[slot] = c.metadata[last];
      c.slotOf.set(c.ids[slot], slot);
    }
    c.ids.length = last;
    c.documentIds.length = last;
    c.metadata.length = last;
    c.count = last;
  }
}

function filterOf(
  filter: VectorSearchRequest['filter'],
): ((c: Collection, slot: number) => boolean) | undefined {
  const documentIds = filter?.documentIds ? new Set(filter.documentIds) : undefined;
  const metadata = filter?.metadata ? Object.entries(filter.metadata) : [];
  if (!documentIds && metadata.length === 0) return undefined;
  return (c, slot) => {
    if (documentIds && !documentIds.has(c.documentIds[slot])) return false;
    const m = c.metadata[slot];
    for (const [key, value] of metadata) if (m?.[key] !== value) return false;
    return true;
  };
}

/** Dot product of `query` with the vector at `offset`; four accumulators let the JIT pipeline it. */
function dot(vectors: Float32Array, offset: number, query: Float32Array, dims: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let d = 0;
  for (; d + 3 < dims; d += 4) {
    s0 += vectors[offset + d] * query[d];
    s1 += vectors[offset + d + 1] * query[d + 1];
    s2 += vectors[offset + d + 2] * query[d + 2];
    s3 += vectors[offset + d + 3] * query[d + 3];
  }
  for (; d < dims; d++) s0 += vectors[offset + d] * query[d];
  return s0 + s1 + s2 + s3;
}
