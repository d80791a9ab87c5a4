import { InvalidInputError } from './errors';

// Keyset pagination: the cursor is the sort key of the last item served, wrapped so clients treat
// it as opaque and cannot confuse it with an id.

export interface Page<T> {
  readonly items: T[];
  /** Pass back to get the next page; null on the last page. */
  readonly nextCursor: string | null;
}

export function encodeCursor(key: string): string {
  return Buffer.from(JSON.stringify({ k: key }), 'utf8').toString('base64url');
}

/** @throws InvalidInputError for anything this module did not produce. */
export function decodeCursor(cursor: string): string {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    const key = (parsed as { k?: unknown } | null)?.k;
    // Keys are database values, which never hold U+0000 (Postgres would reject the comparison).
    if (typeof key === 'string' && !key.includes('\0')) return key;
  } catch {
    // fall through: malformed cursors are a client error, reported below
  }
  throw new InvalidInputError('invalid pagination cursor');
}
