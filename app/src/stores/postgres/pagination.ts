import { InvalidInputError } from '../../domain/errors';

// Keyset pagination: the cursor is the sort key of the last item served (a collection name, a
// document sequence number). It is not wrapped or encoded, so the API can state exactly which
// cursors it accepts (a pattern in the OpenAPI document) and every cursor of that shape is
// meaningful — "the items after this key" — rather than an opaque token that most strings of the
// documented type would fail to decode.

/** Keys this module hands out: URL-safe as they are. */
const cursorPattern = /^[A-Za-z0-9_-]{1,200}$/;

export function encodeCursor(key: string): string {
  if (!cursorPattern.test(key)) throw new RangeError(`sort key not usable as a cursor: ${key}`);
  return key;
}

/** @throws InvalidInputError for anything that cannot be a key this module produced. */
export function decodeCursor(cursor: string): string {
  if (cursorPattern.test(cursor)) return cursor;
  throw new InvalidInputError('invalid pagination cursor');
}
