/** One page of a keyset-paginated list. */
export interface Page<T> {
  readonly items: T[];
  /** Pass back to get the next page; null on the last page. */
  readonly nextCursor: string | null;
}

export interface PageRequest {
  readonly limit: number;
  /** Opaque: a cursor this service returned, or an InvalidInputError. */
  readonly cursor?: string;
}
