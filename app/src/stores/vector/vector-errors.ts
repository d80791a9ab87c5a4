/** A vector whose length differs from the store's dimension: a caller bug, never retried. */
export class VectorDimensionError extends RangeError {
  constructor(expected: number, actual: number) {
    super(`vector has ${actual} dimensions, the store expects ${expected}`);
    this.name = 'VectorDimensionError';
  }
}

export function checkTopK(topK: number): void {
  if (!Number.isInteger(topK) || topK < 1) {
    throw new RangeError(`topK must be a positive integer, got ${topK}`);
  }
}

/** Unit-length copy; rejects wrong sizes, non-finite values and the zero vector. */
export function unitVector(
  vector: Float32Array | readonly number[],
  dimensions: number,
): Float32Array {
  if (vector.length !== dimensions) throw new VectorDimensionError(dimensions, vector.length);
  const out = Float32Array.from(vector);
  let norm = 0;
  for (let i = 0; i < out.length; i++) norm += out[i] * out[i];
  if (!Number.isFinite(norm) || norm === 0) {
    throw new RangeError('vector must be finite and non-zero');
  }
  norm = Math.sqrt(norm);
  for (let i = 0; i < out.length; i++) out[i] /= norm;
  return out;
}
