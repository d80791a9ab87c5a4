import { z } from 'zod';
import { defineRoute, type ApiRoute } from '../api-route';
import { ingestBodyLimit } from '../body-limits';
import { HttpProblem, notFound } from '../problem';
import {
  collectionParams,
  documentListQuery,
  documentListSchema,
  documentParams,
  documentSchema,
  ingestDocumentBody,
  ingestResultSchema,
} from '../schemas';
import type { DocumentRecord } from '../../stores/postgres/documents-repository';
import type { ApiDependencies } from './api-dependencies';

export function documentRoutes(deps: ApiDependencies): ApiRoute[] {
  const { collections, documents, vectors, maxDocumentBytes } = deps;

  async function collectionOr404(name: string, fromPrimary = false) {
    const found = await collections.getByName(name, { fromPrimary });
    if (!found) throw notFound('collection', name);
    return found;
  }

  return [
    defineRoute({
      method: 'post',
      path: '/v1/collections/:collectionId/documents',
      operationId: 'ingestDocument',
      summary:
        'Ingest a text or markdown document (asynchronous; idempotent by source and content)',
      tags: ['documents'],
      params: collectionParams,
      body: ingestDocumentBody,
      maxBodyBytes: ingestBodyLimit(maxDocumentBytes),
      responses: {
        202: {
          description: 'Accepted: created or replaced, indexing is queued.',
          schema: ingestResultSchema,
        },
        200: {
          description: 'Unchanged: the same content was already ingested.',
          schema: ingestResultSchema,
        },
      },
      problems: [404],
      async handle({ params, body }) {
        const size = Buffer.byteLength(body.content, 'utf8');
        if (size > maxDocumentBytes) {
          throw new HttpProblem(
            413,
            'document-too-large',
            'Document too large',
            `content is ${size} bytes; the limit is ${maxDocumentBytes}`,
          );
        }
        const collection = await collectionOr404(params.collectionId, true);
        const { document, outcome } = await documents.ingest(collection.id, body);
        return {
          status: outcome === 'unchanged' ? 200 : 202,
          body: { outcome, document: toDocument(document, collection.name) },
          headers: { Location: `/v1/collections/${collection.name}/documents/${document.id}` },
        };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/collections/:collectionId/documents',
      operationId: 'listDocuments',
      summary: 'List documents, optionally by status (status=dead lists the dead-letter state)',
      tags: ['documents'],
      params: collectionParams,
      query: documentListQuery,
      responses: { 200: { description: 'A page of documents.', schema: documentListSchema } },
      problems: [404],
      async handle({ params, query }) {
        const collection = await collectionOr404(params.collectionId);
        const page = await documents.list(collection.id, query);
        return {
          status: 200,
          body: {
            items: page.items.map((d) => toDocument(d, collection.name)),
            nextCursor: page.nextCursor,
          },
        };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/collections/:collectionId/documents/:documentId',
      operationId: 'getDocument',
      summary: 'Get a document and its indexing status',
      tags: ['documents'],
      params: documentParams,
      responses: { 200: { description: 'The document.', schema: documentSchema } },
      problems: [404],
      async handle({ params }) {
        const collection = await collectionOr404(params.collectionId);
        const document = await documents.get(params.documentId);
        if (!document || document.collectionId !== collection.id)
          throw notFound('document', params.documentId);
        return { status: 200, body: toDocument(document, collection.name) };
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/v1/collections/:collectionId/documents/:documentId',
      operationId: 'deleteDocument',
      summary: 'Delete a document with its chunks and vectors',
      tags: ['documents'],
      params: documentParams,
      responses: { 204: { description: 'Deleted.' } },
      problems: [404],
      async handle({ params }) {
        const collection = await collectionOr404(params.collectionId, true);
        // Rows first (throws NotFoundError → 404): a failure before the vectors go leaves only
        // vectors that no chunk row can cite, and retrieval drops those.
        await documents.delete(collection.id, params.documentId);
        await vectors.deleteDocument(collection.id, params.documentId);
        return { status: 204 };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/collections/:collectionId/documents/:documentId/retry',
      operationId: 'retryDocument',
      summary: 'Re-queue a document from the dead-letter state',
      tags: ['documents'],
      params: documentParams,
      responses: { 202: { description: 'Queued again.', schema: documentSchema } },
      problems: [404, 409],
      async handle({ params }) {
        const collection = await collectionOr404(params.collectionId, true);
        const document = await documents.get(params.documentId, { fromPrimary: true });
        if (!document || document.collectionId !== collection.id)
          throw notFound('document', params.documentId);
        // A document that is not dead-lettered is the repository's ConflictError → 409.
        const requeued = await documents.retry(document.id);
        return { status: 202, body: toDocument(requeued, collection.name) };
      },
    }),
  ];
}

function toDocument(d: DocumentRecord, collectionName: string): z.infer<typeof documentSchema> {
  return {
    id: d.id,
    collectionId: collectionName,
    source: d.source,
    title: d.title,
    mediaType: d.mediaType,
    contentHash: d.contentHash,
    sizeBytes: d.sizeBytes,
    metadata: { ...d.metadata },
    status: d.status,
    attempts: d.attempts,
    lastError: d.lastError,
    chunkCount: d.chunkCount,
    acceptedAt: d.acceptedAt.toISOString(),
    indexedAt: d.indexedAt?.toISOString() ?? null,
  };
}
