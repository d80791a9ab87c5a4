import type { Collection } from '../domain/collection';
import type { QueryAnswer, QueryInput } from '../domain/query';
import type { CollectionStore } from '../domain/ports';
import type { Principal } from '../domain/principal';
import type { CollectionAccess } from './collection-access';

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
      readonly access: CollectionAccess;
      /** Times the collection lookup as a stage of the request (Server-Timing, stage histogram). */
      readonly timeLookup?: <T>(fn: () => Promise<T>) => Promise<T>;
    },
  ) {}

  /** @throws NotFoundError, ConflictError (embedder mismatch), DependencyUnavailableError */
  async answer(principal: Principal, input: QueryInput): Promise<QueryAnswer> {
    const { collections, retrieval, access, timeLookup = (fn) => fn() } = this.deps;
    const collection = await access.collection(
      principal,
      input.collection,
      'reader',
      async () =>
        collections.peek?.(input.collection) ??
        (await timeLookup(() => collections.get(input.collection))),
    );
    return retrieval.run(collection, input);
  }
}
