// The seam between the pipeline and the model that turns text into vectors. Two implementations:
// an OpenAI-compatible HTTP client (OpenAI, Ollama, vLLM, TEI) and a local deterministic embedder
// that needs no network (embedded default and tests).

export interface Embedder {
  /** Identifies the vector space: vectors from different models never share a collection. */
  readonly model: string;
  readonly dimensions: number;
  /** One unit-length vector per input, in input order. */
  embed(texts: readonly string[], signal?: AbortSignal): Promise<Float32Array[]>;
}
