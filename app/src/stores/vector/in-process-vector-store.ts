import {
  createInt8Kernel,
  kernelPageBytes,
  type KernelMemory,
  type ScanFunction,
} from './int8-dot-kernel';
import type { VectorHit, VectorPoint, VectorSearchRequest, VectorStore } from './vector-store';
import { checkTopK, unitVector } from './vector-errors';

// The embedded default's vector index. Vectors are stored unit-length (cosine = dot product), one
// contiguous Float32Array per collection, plus an int8 copy of each (scaled by its largest
// component) in the collection's WebAssembly memory. A search scans every int8 vector with a SIMD
// kernel (int8-dot-kernel.ts), keeps the best `topK · 4 + 64` by approximate score, and ranks those
// exactly in float32: the answer equals an exact search unless the int8 rounding error (about 1e-3
// on a score) moves a true top-k result below a few dozen others, and app/bench/index-100k.ts
// measures recall@10 against exact search on real text at 100,000 chunks. No graph: nothing to
// build at start-up beyond copying vectors in, no tuning, deletes are exact.
//
// Why not HNSW: a pure-TypeScript HNSW (M 16, efConstruction 100) took ~60 s of CPU to build
// 20,000 of these chunks and plateaued at recall@10 ≈ 0.87 even at efSearch 128, because the
// local embedder's bag-of-words vectors give a greedy graph walk little gradient to follow.
//
// Small collections, filtered searches without a kernel, and platforms without WebAssembly SIMD
// use the exact float32 scan. Deletion moves the last vector into the freed slot: storage is dense.

export interface InProcessIndexOptions {
  /** Points below which a collection is scanned exactly in float32. Default 2,048. */
  readonly exactBelow?: number;
  /** Turns the int8 kernel off (the float32 scan everywhere), e.g. to benchmark against it. */
  readonly kernel?: boolean;
}

/** Vectors scanned per kernel call: the out buffer holds one i32 score per vector. */
const block = 4096;

interface Collection {
  vectors: Float32Array;
  count: number;
  ids: string[];
  documentIds: string[];
  metadata: (Readonly<Record<string, string>> | undefined)[];
  slotOf: Map<string, number>;
  /** The int8 copies: query at 0, scores at `outOffset`, vectors from `codesOffset`. */
  codes?: Int8Codes;
}

interface Int8Codes {
  memory: KernelMemory;
  scan: ScanFunction;
  /** Per vector: its largest absolute component / 127 (int8 value × scale ≈ float value). */
  scales: Float32Array;
}

export class InProcessVectorStore implements VectorStore {
  readonly kind = 'in-process' as const;
  private readonly collections = new Map<string, Collection>();
  private readonly exactBelow: number;
  private readonly useKernel: boolean;
  /** Bytes per int8 vector: dimensions rounded up to the kernel's 16 lanes (zero padded). */
  private readonly stride: number;
  private readonly outOffset: number;
  private readonly codesOffset: number;

  constructor(
    readonly dimensions: number,
    options: InProcessIndexOptions = {},
  ) {
    if (!Number.isInteger(dimensions) || dimensions < 1) {
      throw new RangeError(`dimensions must be a positive integer, got ${dimensions}`);
    }
    this.exactBelow = options.exactBelow ?? 2_048;
    this.useKernel = options.kernel ?? true;
    this.stride = Math.ceil(dimensions / 16) * 16;
    this.outOffset = this.stride;
    this.codesOffset = this.outOffset + block * 4;
  }

  async ensureReady(): Promise<void> {}

  /** Points stored in one collection (for tests and the readiness detail). */
  size(collectionId: string): number {
    return this.collections.get(collectionId)?.count ?? 0;
  }

  /** Bytes of vector storage (float32, int8 copies, scales) over every collection. */
  vectorBytes(): number {
    let bytes = 0;
    for (const c of this.collections.values()) {
      bytes += c.vectors.byteLength;
      if (c.codes) bytes += c.codes.memory.buffer.byteLength + c.codes.scales.byteLength;
    }
    return bytes;
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
      if (c.codes) this.encode(c, slot);
      c.documentIds[slot] = point.payload.documentId;
      c.metadata[slot] = point.payload.metadata ? { ...point.payload.metadata } : undefined;
    });
  }

  async search(request: VectorSearchRequest): Promise<VectorHit[]> {
    checkTopK(request.topK);
    const query = unitVector(request.vector, this.dimensions);
    const c = this.collection(request.collectionId, false);
    if (!c || c.count === 0) return [];
    const accept = filterOf(request.filter);
    const k = Math.min(request.topK, c.count);
    const top =
      c.codes && c.count >= this.exactBelow
        ? this.rerank(c, query, k, this.shortlist(c, query, k * 4 + 64, accept))
        : exactTop(c, query, k, accept);
    return top.slots.map((slot, i) => ({
      id: c.ids[slot],
      documentId: c.documentIds[slot],
      score: top.scores[i],
    }));
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

  /**
   * The `size` best slots by int8 score among those `accept` lets through: one kernel call per
   * block of vectors, then a threshold test per score (most fail it, so insertion is rare).
   */
  private shortlist(
    c: Collection,
    query: Float32Array,
    size: number,
    accept: Accept | undefined,
  ): Int32Array {
    const codes = c.codes!;
    const q = new Int8Array(codes.memory.buffer, 0, this.stride);
    quantize(query, q);
    const out = new Int32Array(codes.memory.buffer, this.outOffset, block);
    const scales = codes.scales;
    const slots = new Int32Array(size);
    const scores = new Float64Array(size).fill(-Infinity);
    let filled = 0;
    for (let start = 0; start < c.count; start += block) {
      const n = Math.min(block, c.count - start);
      codes.scan(this.codesOffset + start * this.stride, n, this.stride, 0, this.outOffset);
      for (let i = 0; i < n; i++) {
        // The query's own scale is common to every score: ranking ignores it.
        const score = out[i] * scales[start + i];
        if (filled === size && score <= scores[size - 1]) continue;
        const slot = start + i;
        if (accept && !accept(c, slot)) continue;
        let at = filled < size ? filled++ : size - 1;
        while (at > 0 && scores[at - 1] < score) {
          scores[at] = scores[at - 1];
          slots[at] = slots[at - 1];
          at--;
        }
        scores[at] = score;
        slots[at] = slot;
      }
    }
    return slots.subarray(0, filled);
  }

  /** Exact float32 scores of the shortlisted slots; the best k of them. */
  private rerank(c: Collection, query: Float32Array, k: number, candidates: Int32Array): Top {
    const scored = Array.from(candidates, (slot) => ({
      slot,
      score: dot(c.vectors, slot * this.dimensions, query, this.dimensions),
    })).sort((a, b) => b.score - a.score || a.slot - b.slot);
    const best = scored.slice(0, k);
    return { slots: best.map((s) => s.slot), scores: best.map((s) => s.score) };
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
    if (c.count * this.dimensions > c.vectors.length) {
      const bigger = new Float32Array(c.vectors.length * 2);
      bigger.set(c.vectors);
      c.vectors = bigger;
    }
    if (!this.useKernel) return;
    if (!c.codes && c.count >= this.exactBelow) {
      // Large enough to be searched by the kernel from now on: encode what is already there.
      const codes = this.createCodes(c.vectors.length / this.dimensions);
      if (!codes) return;
      c.codes = codes;
      for (let slot = 0; slot < c.count - 1; slot++) this.encode(c, slot);
      return;
    }
    if (!c.codes) return;
    const capacity = c.vectors.length / this.dimensions;
    if (c.codes.scales.length < capacity) {
      const needed = this.codesOffset + capacity * this.stride;
      const have = c.codes.memory.buffer.byteLength;
      if (needed > have) c.codes.memory.grow(Math.ceil((needed - have) / kernelPageBytes));
      const scales = new Float32Array(capacity);
      scales.set(c.codes.scales);
      c.codes.scales = scales;
    }
  }

  private createCodes(capacity: number): Int8Codes | undefined {
    const kernel = createInt8Kernel(this.codesOffset + capacity * this.stride);
    return kernel ? { ...kernel, scales: new Float32Array(capacity) } : undefined;
  }

  /** Writes the int8 copy of the slot's float vector and its scale. */
  private encode(c: Collection, slot: number): void {
    const codes = c.codes!;
    const target = new Int8Array(
      codes.memory.buffer,
      this.codesOffset + slot * this.stride,
      this.stride,
    );
    const source = c.vectors.subarray(slot * this.dimensions, (slot + 1) * this.dimensions);
    codes.scales[slot] = quantize(source, target);
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
      if (c.codes) {
        new Int8Array(c.codes.memory.buffer).copyWithin(
          this.codesOffset + slot * this.stride,
          this.codesOffset + last * this.stride,
          this.codesOffset + c.count * this.stride,
        );
        c.codes.scales[slot] = c.codes.scales[last];
      }
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

interface Top {
  readonly slots: number[];
  readonly scores: number[];
}

type Accept = (c: Collection, slot: number) => boolean;

function filterOf(filter: VectorSearchRequest['filter']): Accept | undefined {
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

/** Exact top-k in float32 over the slots `accept` lets through, best first. */
function exactTop(c: Collection, query: Float32Array, k: number, accept: Accept | undefined): Top {
  const dims = query.length;
  // Top-k kept sorted descending; k is small, so insertion beats a heap.
  const topSlots = new Int32Array(k);
  const topScores = new Float64Array(k).fill(-Infinity);
  let filled = 0;
  for (let slot = 0; slot < c.count; slot++) {
    if (accept && !accept(c, slot)) continue;
    const score = dot(c.vectors, slot * dims, query, dims);
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
  return {
    slots: Array.from(topSlots.subarray(0, filled)),
    scores: Array.from(topScores.subarray(0, filled)),
  };
}

/**
 * Int8 copy of `source` into `target` (zero padded), scaled so its largest component is ±127;
 * returns the scale (float ≈ int8 × scale).
 */
function quantize(source: Float32Array, target: Int8Array): number {
  let max = 0;
  for (let i = 0; i < source.length; i++) max = Math.max(max, Math.abs(source[i]));
  const scale = max / 127;
  for (let i = 0; i < source.length; i++) target[i] = Math.round(source[i] / scale);
  target.fill(0, source.length);
  return scale;
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
