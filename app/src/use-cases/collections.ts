import type { Collection } from '../domain/collection';
import { NotFoundError } from '../domain/errors';
import type { Page, PageRequest } from '../domain/page';
import type { CollectionStore, VectorIndex } from '../domain/ports';
import type { UseCaseLogger } from './use-case-logger';

export interface CollectionUseCasesDeps {
  readonly collections: CollectionStore;
  readonly vectors: VectorIndex;
  /** The embedder every collection created here is searched with. */
  readonly embedding: { readonly model: string; readonly dimensions: number };
  readonly logger: UseCaseLogger;
}

export class CollectionUseCases {
  constructor(private readonly deps: CollectionUseCasesDeps) {}

  /** @throws ConflictError when the id is taken. */
  create(input: { id: string; description?: string }): Promise<Collection> {
    return this.deps.collections.create({
      id: input.id,
      description: input.description ?? null,
      embeddingModel: this.deps.embedding.model,
      dimensions: this.deps.embedding.dimensions,
    });
  }

  list(page: PageRequest): Promise<Page<Collection>> {
    return this.deps.collections.list(page);
  }

  /** @throws NotFoundError */
  async get(id: string): Promise<Collection> {
    const found = await this.deps.collections.get(id);
    if (!found) throw new NotFoundError('collection', id);
    return found;
  }

  /**
   * Deletes the collection's vectors, then its rows (documents, chunks), then sweeps vectors again.
   * Vectors first: if the rows step fails the collection still exists, cites nothing, and the
   * client's retry finishes the job; rows first would leave vectors no retry can reach (the retry
   * answers 404). The sweep removes vectors an indexing job wrote in between; once the rows are
   * gone such vectors cannot be cited (no chunk row), so a failed sweep is only logged.
   * @throws NotFoundError, DependencyUnavailableError
   */
  async delete(id: string): Promise<void> {
    const { collections, vectors, logger } = this.deps;
    const found = await collections.get(id, { fromPrimary: true });
    if (!found) throw new NotFoundError('collection', id);
    await vectors.deleteCollection(found.key);
    if (!(await collections.delete(found.key))) throw new NotFoundError('collection', id);
    await vectors.deleteCollection(found.key).catch((err: unknown) =>
      logger.warn('sweeping vectors of a deleted collection failed; they cannot be cited', {
        err,
        collection: id,
      }),
    );
  }
}
