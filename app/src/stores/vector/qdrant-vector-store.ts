// The package's types are ESM-only; this CommonJS service loads it with a dynamic import.
import type { QdrantClient } from '@qdrant/js-client-rest' with { 'resolution-mode': 'import' };
import type { LexicalHit, LexicalSearch, LexicalSearchRequest } from '../../domain/lexical-search';
import type { QueryFilter } from '../../domain/query';
import type { VectorHit, VectorPoint, VectorSearchRequest, VectorStore } from './vector-store';
import { sparseTerms } from './sparse-terms';
import { checkTopK, unitVector } from './vector-errors';
import { isCollectionMissing, qdrantFailure } from './qdrant-errors';
import { metadataPayloadPath } from './qdrant-payload-path';

// Qdrant as the production vector store. One Qdrant collection per embedding model and dimension
// (`rag_<model-slug>_<dims>`), shared by every tenant: a service collection is the indexed
// `collection_id` payload field (a tenant index, so Qdrant co-locates each tenant's points), not a
// Qdrant collection — thousands of small Qdrant collections cost far more memory and start-up time.
// The collection uses Qdrant's documented multitenancy layout: no global HNSW graph (`m: 0`), one
// graph per tenant (`payload_m`), built from the tenant index. ensureReady() creates the collection
// and payload indexes once, and again if the collection disappears; no request lists collections.
// Every failure leaves as a domain error (see qdrant-errors.ts), never as the client's own error.
// Beside the unnamed dense vector each point carries a sparse vector of its text's terms
// (`text`, with Qdrant's IDF modifier): the lexical half of hybrid retrieval in this deployment
// (sparseSearch()); retrieval fuses the two rankings itself, as it does with Postgres full text.

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

/** The sparse vector holding each chunk's terms; Qdrant applies IDF at query time. */
export const sparseVectorName = 'text';
const sparseVectorConfig = { modifier: 'idf' } as const;

/** Qdrant's per-tenant HNSW layout (docs: "Configure Multitenancy", calibrate performance). */
export const tenantHnswConfig = { m: 0, payload_m: 16 } as const;

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
      throw qdrantFailure(err, 'ensureReady');
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
          sparse_vectors: { [sparseVectorName]: { ...sparseVectorConfig } },
          hnsw_config: { ...tenantHnswConfig },
        });
      } catch (err) {
        // Another replica created it between our check and our create.
        if (!(await client.collectionExists(this.collectionName)).exists) throw err;
      }
    } else {
      // A collection created before the tenant layout keeps its global graph until told otherwise;
      // Qdrant rebuilds the index in the background after the update.
      const { config } = await client.getCollection(this.collectionName);
      // A collection from before hybrid retrieval gains the sparse vector (Qdrant ≥ 1.18 adds a
      // named vector in place); its existing points match lexically once re-ingested.
      if (!config.params?.sparse_vectors?.[sparseVectorName]) {
        await client.createVectorName(
          this.collectionName,
          sparseVectorName,
          { sparse: { ...sparseVectorConfig } },
          { wait: true },
        );
      }
      const hnsw = config.hnsw_config;
      if (hnsw.m !== tenantHnswConfig.m || hnsw.payload_m !== tenantHnswConfig.payload_m) {
        await client.updateCollection(this.collectionName, {
          hnsw_config: { ...tenantHnswConfig },
        });
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
      vector: withSparse(Array.from(unitVector(p.vector, this.dimensions)), p.text),
      payload: {
        collection_id: p.payload.collectionId,
        document_id: p.payload.documentId,
        metadata: { ...(p.payload.metadata ?? {}) },
      },
    }));
    await this.run('upsert', async (client) => {
      for (let i = 0; i < prepared.length; i += this.batchSize) {
        // wait: an acknowledged write is searchable, which ingestion's "indexed" status promises.
        await client.upsert(this.collectionName, {
          wait: true,
          points: prepared.slice(i, i + this.batchSize),
        });
      }
    });
  }

  async search(request: VectorSearchRequest): Promise<VectorHit[]> {
    checkTopK(request.topK);
    const vector = Array.from(unitVector(request.vector, this.dimensions));
    if (request.filter?.documentIds?.length === 0) return [];
    const filter = tenantFilter(request.collectionId, request.filter);
    const result = await this.run('search', (client) =>
      client.query(this.collectionName, {
        query: vector,
        filter,
        limit: request.topK,
        with_payload: ['document_id'],
      }),
    );
    return result.points.map((p) => ({
      id: String(p.id),
      documentId: String((p.payload as { document_id?: unknown } | null)?.document_id ?? ''),
      score: p.score,
    }));
  }

  /** Lexical search over the points' sparse term vectors, for hybrid retrieval. */
  sparseSearch(): LexicalSearch {
    return { kind: 'qdrant', search: (request) => this.searchSparse(request) };
  }

  private async searchSparse(request: LexicalSearchRequest): Promise<LexicalHit[]> {
    checkTopK(request.limit);
    if (request.filter?.documentIds?.length === 0) return [];
    const terms = sparseTerms(request.query);
    if (terms.indices.length === 0) return [];
    const filter = tenantFilter(request.collectionKey, request.filter);
    const result = await this.run('sparseSearch', (client) =>
      client.query(this.collectionName, {
        query: terms,
        using: sparseVectorName,
        filter,
        limit: request.limit,
        with_payload: ['document_id'],
      }),
    );
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
    await this.run('deleteDocument', (client) =>
      client.delete(this.collectionName, { wait: true, filter }),
    );
  }

  async deleteCollection(collectionId: string): Promise<void> {
    await this.run('deleteCollection', (client) =>
      client.delete(this.collectionName, {
        wait: true,
        filter: { must: [match('collection_id', collectionId)] },
      }),
    );
  }

  async ping(): Promise<void> {
    try {
      await (await this.client).versionInfo();
    } catch (err) {
      throw qdrantFailure(err, 'ping');
    }
  }

  /**
   * Runs `call` once the collection is ready. A collection deleted behind the adapter's back
   * (operator, restore, a fresh Qdrant volume) is re-created and the call made once more, instead
   * of failing every call until a restart because readiness was remembered.
   */
  private async run<T>(operation: string, call: (client: QdrantClient) => Promise<T>): Promise<T> {
    const client = await this.client;
    try {
      await this.ensureReady();
      return await call(client);
    } catch (err) {
      if (!isCollectionMissing(err)) throw qdrantFailure(err, operation);
    }
    this.ready = undefined;
    try {
      await this.ensureReady();
      return await call(client);
    } catch (err) {
      throw qdrantFailure(err, operation);
    }
  }

  async close(): Promise<void> {
    // REST over fetch: no connection to tear down beyond the keep-alive pool, which unrefs itself.
  }
}

/** The dense vector alone, or with the text's sparse vector (the unnamed vector's name is ""). */
function withSparse(dense: number[], text: string | undefined) {
  if (text === undefined) return dense;
  const terms = sparseTerms(text);
  // A text of stopwords only has no term to match: the point is written without a sparse vector.
  return terms.indices.length ? { '': dense, [sparseVectorName]: terms } : dense;
}

function tenantFilter(collectionId: string, conditions: QueryFilter | undefined): Filter {
  const filter: Filter = { must: [match('collection_id', collectionId)] };
  if (conditions?.documentIds) {
    filter.must.push({ key: 'document_id', match: { any: [...conditions.documentIds] } });
  }
  for (const [key, value] of Object.entries(conditions?.metadata ?? {})) {
    // Each key is one literal key of the metadata object, whatever characters it holds.
    filter.must.push(match(metadataPayloadPath(key), value));
  }
  return filter;
}

function match(key: string, value: string): Record<string, unknown> {
  return { key, match: { value } };
}
