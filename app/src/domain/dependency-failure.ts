import { DependencyUnavailableError, DomainError, type DependencyName } from './errors';

/**
 * What a failed call to a dependency means to the caller: the adapter's own domain error when it
 * classified the failure, otherwise the dependency being unavailable (a 503 the client may retry),
 * never an unexplained fault.
 */
export function asDependencyFailure(dependency: DependencyName, err: unknown): DomainError {
  if (err instanceof DomainError) return err;
  return new DependencyUnavailableError(
    dependency,
    `${dependency} failed: ${err instanceof Error ? err.message : String(err)}`,
    { cause: err },
  );
}
