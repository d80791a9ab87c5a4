import { z } from 'zod';
import { defineRoute, type ApiRoute } from '../api-route';
import { createCollectionBodyLimit } from '../body-limits';
import { notFound } from '../problem';
import {
  collectionListSchema,
  collectionParams,
  collectionSchema,
  createCollectionBody,
  collectionListQuery,
} from '../schemas';
import type { Collection } from '../../stores/postgres/collections-repository';
import type { ApiDependencies } from './api-dependencies';

export function collectionRoutes(deps: ApiDependencies): ApiRoute[] {
  const { collections, embedder, vectors } = deps;
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
      problems: [409],
      async handle({ body }) {
        // A duplicate id surfaces as the repository's ConflictError → 409.
        const created = await collections.create({
          name: body.id,
          description: body.description ?? null,
          embeddingModel: embedder.model,
          dimensions: embedder.dimensions,
        });
        return {
          status: 201,
          body: toCollection(created),
          headers: { Location: `/v1/collections/${created.name}` },
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
      async handle({ query }) {
        const page = await collections.list({ limit: query.limit, cursor: query.cursor });
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
      problems: [404],
      async handle({ params }) {
        const found = await collections.getByName(params.collectionId);
        if (!found) throw notFound('collection', params.collectionId);
        return { status: 200, body: toCollection(found) };
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
      problems: [404],
      async handle({ params }) {
        const found = await collections.getByName(params.collectionId, { fromPrimary: true });
        if (!found) throw notFound('collection', params.collectionId);
        // Rows first: once they are gone nothing can cite the vectors, so a failure between the two
        // steps leaves only unreachable vectors, which the next delete or re-create sweeps.
        await collections.delete(found.id);
        await vectors.deleteCollection(found.id);
        return { status: 204 };
      },
    }),
  ];
}

function toCollection(c: Collection): z.infer<typeof collectionSchema> {
  return {
    id: c.name,
    description: c.description,
    embeddingModel: c.embeddingModel,
    dimensions: c.dimensions,
    indexVersion: c.indexVersion,
    createdAt: c.createdAt.toISOString(),
  };
}
