import type { Embedder } from './embedder';
import { postJson, UpstreamError, type RetryPolicy } from './openai-compatible-post';

// Embeddings from any server speaking OpenAI's `POST /embeddings` (OpenAI, Ollama's /v1, vLLM,
// TEI's OpenAI route). Inputs go out in batches of `batchSize`; each request has its own timeout
// and retry budget (see openai-compatible-post.ts). Vectors are checked against the configured
// dimension — a wrong model behind the URL must fail loudly, not poison the index — and
// normalized, since not every server returns unit vectors and the stores rank by dot product.

export interface HttpEmbedderOptions extends RetryPolicy {
  /** Base URL, e.g. https://api.openai.com/v1 or http://ollama:11434/v1 (no trailing /embeddings). */
  readonly url: string;
  readonly model: string;
  readonly dimensions: number;
  readonly apiKey?: string;
  readonly batchSize?: number;
  readonly timeoutMs?: number;
}

interface EmbeddingsResponse {
  data?: { index?: number; embedding?: unknown }[];
}

export class HttpEmbedder implements Embedder {
  readonly model: string;
  readonly dimensions: number;
  private readonly endpoint: string;
  private readonly batchSize: number;

  constructor(private readonly options: HttpEmbedderOptions) {
    this.model = options.model;
    this.dimensions = options.dimensions;
    this.endpoint = `${options.url.replace(/\/+$/, '')}/embeddings`;
    this.batchSize = options.batchSize ?? 64;
    if (!(this.batchSize >= 1)) throw new RangeError('batchSize must be at least 1');
  }

  async embed(texts: readonly string[], signal?: AbortSignal): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    for (let i = 0; i < texts.length; i += this.batchSize) {
      out.push(...(await this.embedBatch(texts.slice(i, i + this.batchSize), signal)));
    }
    return out;
  }

  private async embedBatch(input: string[], signal?: AbortSignal): Promise<Float32Array[]> {
    const body = (await postJson({
      url: this.endpoint,
      body: { model: this.model, input, encoding_format: 'float' },
      apiKey: this.options.apiKey,
      timeoutMs: this.options.timeoutMs ?? 10_000,
      signal,
      maxRetries: this.options.maxRetries,
      baseDelayMs: this.options.baseDelayMs,
      maxDelayMs: this.options.maxDelayMs,
    })) as EmbeddingsResponse;
    const data = Array.isArray(body?.data) ? body.data : undefined;
    if (!data || data.length !== input.length) {
      throw new UpstreamError(
        `${this.endpoint} returned ${data ? data.length : 'no'} embeddings for ${input.length} inputs`,
        undefined,
        false,
      );
    }
    const vectors = new Array<Float32Array>(input.length);
    data.forEach((item, position) => {
      const index = typeof item.index === 'number' ? item.index : position;
      const embedding = item.embedding;
      if (!Array.isArray(embedding) || index < 0 || index >= input.length || vectors[index]) {
        throw new UpstreamError(
          `${this.endpoint} returned a malformed embedding`,
          undefined,
          false,
        );
      }
      if (embedding.length !== this.dimensions) {
        throw new UpstreamError(
          `model ${this.model} returned ${embedding.length}-dimensional vectors, configured for ${this.dimensions} (EMBEDDER_DIMENSIONS)`,
          undefined,
          false,
        );
      }
      vectors[index] = normalize(embedding);
    });
    return vectors;
  }
}

function normalize(values: unknown[]): Float32Array {
  const v = new Float32Array(values.length);
  let norm = 0;
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    if (typeof x !== 'number' || !Number.isFinite(x)) {
      throw new UpstreamError('embedding contains a non-numeric value', undefined, false);
    }
    v[i] = x;
    norm += x * x;
  }
  if (norm === 0) throw new UpstreamError('embedding is the zero vector', undefined, false);
  norm = Math.sqrt(norm);
  for (let i = 0; i < v.length; i++) v[i] /= norm;
  return v;
}
