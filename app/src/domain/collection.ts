// A collection is a tenant namespace of documents. Its `id` is the name its creator chose (the
// API's `id`, `collectionId` and the query's `collection`), the identity clients, URLs and future
// authorization use. Each incarnation of an id also has a `key`, generated at creation, which
// scopes its rows, chunks, vectors and cached answers: a collection deleted and created again
// under the same id never sees what its predecessor left behind.

export interface Collection {
  readonly id: string;
  readonly key: string;
  readonly description: string | null;
  readonly embeddingModel: string;
  readonly dimensions: number;
  /** Bumped whenever the searchable content changes; cached answers key on it. */
  readonly indexVersion: number;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export interface NewCollection {
  readonly id: string;
  readonly description?: string | null;
  readonly embeddingModel: string;
  readonly dimensions: number;
  /** The principal made the collection's admin in the same transaction (its creator). */
  readonly adminPrincipalId?: string;
}

/** Reads go to a replica unless the caller needs to see a write it just made. */
export interface ReadOptions {
  readonly fromPrimary?: boolean;
}
