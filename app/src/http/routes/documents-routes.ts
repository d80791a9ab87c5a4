import { z } from 'zod';
import { defineRoute, type ApiRoute } from '../api-route';
import { ingestBodyLimit } from '../body-limits';
import { HttpProblem } from '../problem';
import {
  collectionParams,
  documentListQuery,
  documentListSchema,
  documentParams,
  documentSchema,
  ingestDocumentBody,
  ingestResultSchema,
} from '../schemas';
import type { Collection } from '../../domain/collection';
import type { DocumentRecord } from '../../domain/document';
import type { ApiDependencies } from './api-dependencies';

export function documentRoutes(deps: ApiDependencies): ApiRoute[] {
  const { documents, maxDocumentBytes } = deps;

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
      problems: [404, 503],
      async handle({ params, body, principal }) {
        const size = Buffer.byteLength(body.content, 'utf8');
        if (size > maxDocumentBytes) {
          throw new HttpProblem(
            413,
            'document-too-large',
            'Document too large',
            `content is ${size} bytes; the limit is ${maxDocumentBytes}`,
          );
        }
        const { collection, document, outcome } = await documents.ingest(
          principal,
          params.collectionId,
          body,
        );
        return {
          status: outcome === 'unchanged' ? 200 : 202,
          body: { outcome, document: toDocument(document, collection) },
          headers: { Location: `/v1/collections/${collection.id}/documents/${document.id}` },
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
      problems: [404, 503],
      async handle({ params, query, principal }) {
        const { collection, page } = await documents.list(principal, params.collectionId, query);
        return {
          status: 200,
          body: {
            items: page.items.map((d) => toDocument(d, collection)),
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
      problems: [404, 503],
      async handle({ params, principal }) {
        const { collection, document } = await documents.get(
          principal,
          params.collectionId,
          params.documentId,
        );
        return { status: 200, body: toDocument(document, collection) };
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
      problems: [404, 503],
      async handle({ params, principal }) {
        await documents.delete(principal, params.collectionId, params.documentId);
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
      problems: [404, 409, 503],
      async handle({ params, principal }) {
        // A document that is not dead-lettered is a ConflictError → 409.
        const { collection, document } = await documents.retry(
          principal,
          params.collectionId,
          params.documentId,
        );
        return { status: 202, body: toDocument(document, collection) };
      },
    }),
  ];
}

function toDocument(d: DocumentRecord, collection: Collection): z.infer<typeof documentSchema> {
  return {
    id: d.id,
    collectionId: collection.id,
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
