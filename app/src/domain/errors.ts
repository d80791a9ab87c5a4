import type { Dependency } from '../../../catalog/metrics/metric-catalog';

// Failures the use cases report, with no HTTP in them: the HTTP layer maps each kind to one problem
// type in one place (`http/problem.ts`). Stores translate their drivers' errors into these, so a
// route never needs to know which database or vector store failed, only what kind of failure it was.

/**
 * The dependencies whose state the service tracks. The catalog owns the list, as the `dependency`
 * label of `rag_dependency_up`, so the service tracks exactly the dependencies alerts and dashboards know.
 */
export type DependencyName = Dependency;

export abstract class DomainError extends Error {}

export class NotFoundError extends DomainError {
  constructor(
    readonly entity: 'collection' | 'document' | 'principal' | 'api key',
    readonly key: string,
  ) {
    super(`${entity} ${key} not found`);
    this.name = 'NotFoundError';
  }
}

/**
 * The caller holds a role on the collection, but not one that allows this operation. A caller
 * with no role at all gets NotFoundError instead: it must not learn that the collection exists.
 */
export class ForbiddenError extends DomainError {
  constructor(message: string) {
    super(message);
    this.name = 'ForbiddenError';
  }
}

export class ConflictError extends DomainError {
  constructor(message: string) {
    super(message);
    this.name = 'ConflictError';
  }
}

/** A client-supplied value that cannot be used, e.g. a malformed pagination cursor or a filter key the store refuses. */
export class InvalidInputError extends DomainError {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidInputError';
  }
}

/**
 * A dependency the operation needs is unreachable or failing after retries: retryable by the
 * client (a 503 with Retry-After), never the client's fault and never an opaque 500.
 */
export class DependencyUnavailableError extends DomainError {
  constructor(
    readonly dependency: DependencyName,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'DependencyUnavailableError';
  }
}
