// The package's types are ESM-only; this CommonJS service loads it with a dynamic import.
import type { QdrantClient } from '@qdrant/js-client-rest' with { 'resolution-mode': 'import' };
import type { VectorHit, VectorPoint, VectorSearchRequest, VectorStore } from './vector-store';
import { checkTopK, unitVector } from './vector-errors';

// Qdrant as the production vector store. One Qdrant collection per embedding model and dimension
// (`rag_<model-slug>_<dims>`), shared by every tenant: a service collection is the indexed
// `collection_id` payload field (a tenant index, so Qdrant co-locates each tenant's points), not a
// Qdrant collection — thousands of small Qdrant collections cost far more memory and start-up time.
// ensureReady() creates the collection and payload indexes once; no request lists collections.

export interface QdrantVectorStoreOptions {
  readonly url: string;
  readonly apiKey?: string;
  /** Client-side bound on every request, in ms. */
  readonly timeoutMs?: number;
  /** Embedding model the vectors come from; part of the Qdrant collection name. */
  readonly model: string;
  readonly dimensions: number;
  /** Points per upsert request. Default 256. */
  readonly upsertBatchSize?: number;
}

type Filter = {
  must: Record<string, unknown>[];
  must_not?: Record<string, unknown>[];
};

export function qdrantCollectionName(model: string, dimensions: number): string {
  const slug = model
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  return `rag_${slug}_${dimensions}`;
}

export class QdrantVectorStore implements VectorStore {
  readonly kind = 'qdrant' as const;
  readonly collectionName: string;
  readonly dimensions: number;
  private readonly client: Promise<QdrantClient>;
  private readonly batchSize: number;
  private ready: Promise<void> | undefined;

  constructor(options: QdrantVectorStoreOptions) {
    this.dimensions = options.dimensions;
    this.collectionName = qdrantCollectionName(options.model, options.dimensions);
    this.batchSize = options.upsertBatchSize ?? 256;
    this.client = import('@qdrant/js-client-rest').then(
      ({ QdrantClient }) =>
        new QdrantClient({
          url: options.url,
          apiKey: options.apiKey,
          timeout: options.timeoutMs ?? 5_000,
          // The compatibility probe is an extra request at construction; skew shows in ping().
          checkCompatibility: false,
        }),
    );
  }

  ensureReady(): Promise<void> {
    // Memoized, but a failure is not: the next call (e.g. the next readiness probe) retries.
    this.ready ??= this.createIfMissing().catch((err) => {
      this.ready = undefined;
      throw err;
    });
    return this.ready;
  }

  private async createIfMissing(): Promise<void> {
    const client = await this.client;
    const { exists } = await client.collectionExists(this.collectionName);
    if (!exists) {
      try {
        await client.createCollection(this.collectionName, {
          vectors: { size: this.dimensions, distance: 'Cosine' },
        });
      } catch (err) {
        // Another replica created it between our check and our create.
        if (!(await client.collectionExists(this.collectionName)).exists) throw err;
      }
    }
    // Idempotent in Qdrant: re-creating an existing index with the same schema is a no-op.
    await client.createPayloadIndex(this.collectionName, {
      field_name: 'collection_id',
      field_schema: { type: 'keyword', is_tenant: true },
      wait: true,
    });
    await client.createPayloadIndex(this.collectionName, {
      field_name: 'document_id',
      field_schema: 'keyword',
      wait: true,
    });
  }

  async upsert(points: readonly VectorPoint[]): Promise<void> {
    const prepared = points.map((p) => ({
      id: p.id,
      vector: Array.from(unitVector(p.vector, this.dimensions)),
      payload: {
        collection_id: p.payload.collectionId,
        document_id: p.payload.documentId,
        metadata: { ...(p.payload.metadata ?? {}) },
      },
    }));
    await this.ensureReady();
    const client = await this.client;
    for (let i = 0; i < prepared.length; i += this.batchSize) {
      // wait: an acknowledged write is searchable, which ingestion's "indexed" status promises.
      await client.upsert(this.collectionName, {
        wait: true,
        points: prepared.slice(i, i + this.batchSize),
      });
    }
  }

  async search(request: VectorSearchRequest): Promise<VectorHit[]> {
    checkTopK(request.topK);
    const vector = Array.from(unitVector(request.vector, this.dimensions));
    if (request.filter?.documentIds?.length === 0) return [];
    const filter: Filter = { must: [match('collection_id', request.collectionId)] };
    if (request.filter?.documentIds) {
      filter.must.push({ key: 'document_id', match: { any: [...request.filter.documentIds] } });
    }
    for (const [key, value] of Object.entries(request.filter?.metadata ?? {})) {
      filter.must.push(match(`metadata.${key}`, value));
    }
    await this.ensureReady();
    const result = await (
      await this.client
    ).query(this.collectionName, {
      query: vector,
      filter,
      limit: request.topK,
      with_payload: ['document_id'],
    });
    return result.points.map((p) => ({
      id: String(p.id),
      documentId: String((p.payload as { document_id?: unknown } | null)?.document_id ?? ''),
      score: p.score,
    }));
  }

  async deleteDocument(
    collectionId: string,
    documentId: string,
    keepIds: readonly string[] = [],
  ): Promise<void> {
    const filter: Filter = {
      must: [match('collection_id', collectionId), match('document_id', documentId)],
    };
    if (keepIds.length > 0) filter.must_not = [{ has_id: [...keepIds] }];
    await this.ensureReady();
    await (await this.client).delete(this.collectionName, { wait: true, filter });
  }

  async deleteCollection(collectionId: string): Promise<void> {
    await this.ensureReady();
    await (
      await this.client
    ).delete(this.collectionName, {
      wait: true,
      filter: { must: [match('collection_id', collectionId)] },
    });
  }

  async ping(): Promise<void> {
    await (await this.client).versionInfo();
  }

  async close(): Promise<void> {
    // REST over fetch: no connection to tear down beyond the keep-alive pool, which unrefs itself.
  }
}

function match(key: string, value: string): Record<string, unknown> {
  return { key, match: { value } };
}
