import type { AccessChanged } from '../domain/access';
import type { Collection } from '../domain/collection';
import { ForbiddenError, NotFoundError } from '../domain/errors';
import type { Page, PageRequest } from '../domain/page';
import type { CollectionStore, VectorIndex } from '../domain/ports';
import type { Principal } from '../domain/principal';
import { atLeast, systemPrincipal, type CollectionAccess } from './collection-access';
import type { UseCaseLogger } from './use-case-logger';

export interface CollectionUseCasesDeps {
  readonly collections: CollectionStore;
  readonly vectors: VectorIndex;
  /** The embedder every collection created here is searched with. */
  readonly embedding: { readonly model: string; readonly dimensions: number };
  readonly logger: UseCaseLogger;
  readonly access: CollectionAccess;
  /** Tells the credential caches that roles changed (a delete removes every member's). */
  readonly changed?: AccessChanged;
}

export class CollectionUseCases {
  constructor(private readonly deps: CollectionUseCasesDeps) {}

  /**
   * Any authenticated principal whose credential may write creates collections (tenants serve
   * themselves) and becomes the new collection's admin in the same transaction; a read-only
   * credential may not.
   * @throws ConflictError when the id is taken; ForbiddenError for a read-only credential.
   */
  async create(
    principal: Principal,
    input: { id: string; description?: string },
  ): Promise<Collection> {
    if (!atLeast(principal, 'writer')) {
      await this.deps.access.denied(principal, input.id, 'writer', 'read-only credential');
      throw new ForbiddenError('a read-only credential cannot create collections');
    }
    const created = await this.deps.collections.create({
      id: input.id,
      description: input.description ?? null,
      embeddingModel: this.deps.embedding.model,
      dimensions: this.deps.embedding.dimensions,
      ...(principal.id === systemPrincipal.id ? {} : { adminPrincipalId: principal.id }),
    });
    this.deps.changed?.(principal.id);
    await this.deps.access.record({
      type: 'collection.created',
      actor: principal.id,
      target: created.id,
      collection: created.id,
    });
    return created;
  }

  /** The collections the principal holds a role on (a super admin: all of them). */
  list(principal: Principal, page: PageRequest): Promise<Page<Collection>> {
    if (principal.superAdmin) return this.deps.collections.list(page);
    return this.deps.collections.list({ ...page, memberOf: principal.id });
  }

  /** @throws NotFoundError */
  get(principal: Principal, id: string): Promise<Collection> {
    return this.deps.access.collection(principal, id, 'reader', () =>
      this.deps.collections.get(id),
    );
  }

  /**
   * Deletes the collection's vectors, then its rows (documents, chunks), then sweeps vectors again.
   * Vectors first: if the rows step fails the collection still exists, cites nothing, and the
   * client's retry finishes the job; rows first would leave vectors no retry can reach (the retry
   * answers 404). The sweep removes vectors an indexing job wrote in between; once the rows are
   * gone such vectors cannot be cited (no chunk row), so a failed sweep is only logged.
   * @throws NotFoundError, DependencyUnavailableError
   */
  async delete(principal: Principal, id: string): Promise<void> {
    const { collections, vectors, logger, access } = this.deps;
    const found = await access.collection(principal, id, 'admin', () =>
      collections.get(id, { fromPrimary: true }),
    );
    await vectors.deleteCollection(found.key);
    if (!(await collections.delete(found.key))) throw new NotFoundError('collection', id);
    await vectors.deleteCollection(found.key).catch((err: unknown) =>
      logger.warn('sweeping vectors of a deleted collection failed; they cannot be cited', {
        err,
        collection: id,
      }),
    );
    // Its members' roles went with it (a cascade): no cached credential may keep one.
    this.deps.changed?.(null);
    await access.record({
      type: 'collection.deleted',
      actor: principal.id,
      target: id,
      collection: id,
    });
  }
}
