import { z } from 'zod';
import { defineRoute, type ApiRoute } from '../api-route';
import { createCollectionBodyLimit } from '../body-limits';
import {
  collectionListSchema,
  collectionParams,
  collectionSchema,
  createCollectionBody,
  collectionListQuery,
} from '../schemas';
import type { Collection } from '../../domain/collection';
import type { ApiDependencies } from './api-dependencies';

export function collectionRoutes(deps: ApiDependencies): ApiRoute[] {
  const { collections } = deps;
  return [
    defineRoute({
      method: 'post',
      path: '/v1/collections',
      operationId: 'createCollection',
      summary: 'Create a collection (a tenant namespace)',
      tags: ['collections'],
      body: createCollectionBody,
      maxBodyBytes: createCollectionBodyLimit,
      responses: { 201: { description: 'Created.', schema: collectionSchema } },
      problems: [409, 503],
      async handle({ body, principal }) {
        // A duplicate id is a ConflictError → 409.
        const created = await collections.create(principal, body);
        return {
          status: 201,
          body: toCollection(created),
          headers: { Location: `/v1/collections/${created.id}` },
        };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/collections',
      operationId: 'listCollections',
      summary: 'List collections',
      tags: ['collections'],
      query: collectionListQuery,
      responses: { 200: { description: 'A page of collections.', schema: collectionListSchema } },
      problems: [503],
      async handle({ query, principal }) {
        const page = await collections.list(principal, {
          limit: query.limit,
          cursor: query.cursor,
        });
        return {
          status: 200,
          body: { items: page.items.map(toCollection), nextCursor: page.nextCursor },
        };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/collections/:collectionId',
      operationId: 'getCollection',
      summary: 'Get a collection',
      tags: ['collections'],
      params: collectionParams,
      responses: { 200: { description: 'The collection.', schema: collectionSchema } },
      problems: [404, 503],
      async handle({ params, principal }) {
        return {
          status: 200,
          body: toCollection(await collections.get(principal, params.collectionId)),
        };
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/v1/collections/:collectionId',
      operationId: 'deleteCollection',
      summary: 'Delete a collection, its documents, chunks and vectors',
      tags: ['collections'],
      params: collectionParams,
      responses: { 204: { description: 'Deleted.' } },
      problems: [404, 503],
      async handle({ params, principal }) {
        await collections.delete(principal, params.collectionId);
        return { status: 204 };
      },
    }),
  ];
}

function toCollection(c: Collection): z.infer<typeof collectionSchema> {
  return {
    id: c.id,
    description: c.description,
    embeddingModel: c.embeddingModel,
    dimensions: c.dimensions,
    indexVersion: c.indexVersion,
    createdAt: c.createdAt.toISOString(),
  };
}
