import type { Embedder } from '../../rag/embedding/embedder';
import type { QueryPipeline } from '../../rag/retrieval/query-pipeline';
import type { CollectionsRepository } from '../../stores/postgres/collections-repository';
import type { DocumentsRepository } from '../../stores/postgres/documents-repository';
import type { VectorStore } from '../../stores/vector/vector-store';

/** What the API routes need from the rest of the service; built once in service.ts. */
export interface ApiDependencies {
  readonly collections: CollectionsRepository;
  readonly documents: DocumentsRepository;
  readonly vectors: VectorStore;
  readonly embedder: Embedder;
  readonly queries: QueryPipeline;
  readonly maxDocumentBytes: number;
}
