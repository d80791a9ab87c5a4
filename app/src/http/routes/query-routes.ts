import type { z } from 'zod';
import { defineRoute, type ApiRoute } from '../api-route';
import { queryBodyLimit } from '../body-limits';
import { queryBody, queryResultSchema } from '../schemas';
import type { ApiDependencies } from './api-dependencies';

export function queryRoutes(deps: ApiDependencies, exposeCached = true): ApiRoute[] {
  return [
    defineRoute({
      method: 'post',
      path: '/v1/query',
      operationId: 'query',
      summary: 'Answer a question from a collection, with citations',
      tags: ['query'],
      body: queryBody,
      maxBodyBytes: queryBodyLimit,
      responses: {
        200: { description: 'The answer and its citations.', schema: queryResultSchema },
      },
      // 503: the embedding endpoint, the vector store or the database is down (a chat endpoint
      // outage falls back to extractive answers).
      problems: [404, 409, 503],
      async handle({ body, principal }) {
        const outcome = await deps.queries.answer(principal, body);
        if ('json' in outcome) {
          // The stored JSON is the answer without `cached` (a non-empty object): the field goes
          // first when diagnostics are exposed, and stays absent otherwise.
          return {
            status: 200,
            json: exposeCached ? `{"cached":true,${outcome.json.slice(1)}` : outcome.json,
          };
        }
        const result: z.infer<typeof queryResultSchema> = outcome;
        if (exposeCached) return { status: 200, body: result };
        // Whether the answer was cached tells this caller that someone asked the same before.
        const { cached: _cached, ...answer } = result;
        return { status: 200, body: answer };
      },
    }),
  ];
}
