import type { Collection } from '../domain/collection';
import { NotFoundError } from '../domain/errors';
import type { QueryAnswer, QueryInput } from '../domain/query';
import type { CollectionStore } from '../domain/ports';

/** Retrieval and answering over one collection (rag/retrieval/query-pipeline.ts). */
export interface Retrieval {
  run(collection: Collection, input: QueryInput): Promise<QueryAnswer>;
}

export class QueryUseCase {
  constructor(
    private readonly deps: {
      readonly collections: Pick<CollectionStore, 'get'> & {
        /** A collection already in memory, if the store keeps any (collection-lookup-cache.ts). */
        peek?(id: string): Collection | undefined;
      };
      readonly retrieval: Retrieval;
      /** Times the collection lookup as a stage of the request (Server-Timing, stage histogram). */
      readonly timeLookup?: <T>(fn: () => Promise<T>) => Promise<T>;
    },
  ) {}

  /** @throws NotFoundError, ConflictError (embedder mismatch), DependencyUnavailableError */
  async answer(input: QueryInput): Promise<QueryAnswer> {
    const { collections, retrieval, timeLookup = (fn) => fn() } = this.deps;
    const collection =
      collections.peek?.(input.collection) ??
      (await timeLookup(() => collections.get(input.collection)));
    if (!collection) throw new NotFoundError('collection', input.collection);
    return retrieval.run(collection, input);
  }
}
