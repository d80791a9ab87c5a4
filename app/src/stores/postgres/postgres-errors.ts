import { DependencyUnavailableError, DomainError } from '../../domain/errors';
import { isUnreachableError } from './database';

// Postgres failures translated into the domain's kinds at the repository boundary, so nothing
// above the stores knows a driver error code.

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Postgres rejects a malformed uuid with an error; an unknown id is simply "not found". */
export function isUuid(value: string): boolean {
  return uuidPattern.test(value);
}

export const uniqueViolation = '23505';

/**
 * Failures a retry can cure: the lock wait bound (DATABASE_LOCK_TIMEOUT_MS) expired behind a long
 * transaction, or the server cancelled one side of a conflict.
 */
const transientCodes = new Set([
  '55P03', // lock_not_available
  '40001', // serialization_failure
  '40P01', // deadlock_detected: prevented by the lock order, kept retryable should one slip in
  '57014', // query_canceled (statement timeout)
]);

/** Runs a repository operation, reporting an unreachable or overloaded database as such. */
export async function withPostgres<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (err) {
    if (err instanceof DomainError) throw err;
    if (isUnreachableError(err)) {
      throw new DependencyUnavailableError('postgres_primary', 'the database is unreachable', {
        cause: err,
      });
    }
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && transientCodes.has(code)) {
      throw new DependencyUnavailableError('postgres_primary', 'the database is busy', {
        cause: err,
      });
    }
    throw err;
  }
}
