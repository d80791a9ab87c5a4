// Typed failures of the data layer that carry their HTTP meaning, so the API maps them to problem+json
// (404, 409, 400) without string matching; anything else out of a repository is a 5xx-class fault.

export abstract class DataError extends Error {
  abstract readonly status: 400 | 404 | 409;
}

export class NotFoundError extends DataError {
  readonly status = 404;
  constructor(
    readonly entity: 'collection' | 'document',
    readonly key: string,
  ) {
    super(`${entity} ${key} not found`);
    this.name = 'NotFoundError';
  }
}

export class ConflictError extends DataError {
  readonly status = 409;
  constructor(message: string) {
    super(message);
    this.name = 'ConflictError';
  }
}

/** A client-supplied value the database layer cannot use, e.g. a malformed pagination cursor. */
export class InvalidInputError extends DataError {
  readonly status = 400;
  constructor(message: string) {
    super(message);
    this.name = 'InvalidInputError';
  }
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Postgres rejects a malformed uuid with an error; an unknown id is simply "not found". */
export function isUuid(value: string): boolean {
  return uuidPattern.test(value);
}
