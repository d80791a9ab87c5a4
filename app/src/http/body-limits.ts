// How many bytes of JSON each operation may send, derived from what its schema accepts. The body
// is refused with 413 from its Content-Length (or as soon as a chunked body passes the limit),
// before it is buffered or parsed: a limit sized for the largest route on every route let a burst
// of megabyte bodies to any endpoint multiply the process's memory.
//
// Free text is counted at 6 bytes per UTF-16 code unit, the longest JSON escape (`\u0001`), so a
// body that is valid per the schema is never refused for its size; the numbers mirror the
// schema's maxima (app/src/http/schemas.ts), and the tests send a maximal body to each route.

/** Worst-case size of a JSON string holding `chars` UTF-16 code units, quotes included. */
const jsonString = (chars: number) => 6 * chars + 2;

/** Field names, punctuation, numbers and whitespace around the values. */
const envelope = 1024;

/** 32 entries, keys of at most 64 ASCII characters, values of at most 512 characters. */
const metadata = 32 * (jsonString(64) + 1 + jsonString(512) + 1) + 2;

export const createCollectionBodyLimit = envelope + jsonString(63) + jsonString(1000);

export const queryBodyLimit =
  envelope + jsonString(63) + jsonString(2000) + 100 * (jsonString(36) + 1) + metadata;

/**
 * The document content is limited in UTF-8 bytes by the route (MAX_DOCUMENT_BYTES); its JSON form
 * is allowed half as much again for escaping (newlines, quotes, tabs) — a document made mostly of
 * control characters would need more, and is refused as too large.
 */
export function ingestBodyLimit(maxDocumentBytes: number): number {
  return envelope + Math.ceil(maxDocumentBytes * 1.5) + 2 * jsonString(512) + metadata;
}

/**
 * A refresh or revocation request: one token of at most 4096 visible ASCII characters. Sized for
 * escaped astral characters (12 bytes per code point, as a client escaping to ASCII sends them) a
 * little past the limit, so a token just too long is the validation problem it is, not a 413.
 */
export const tokenBodyLimit = envelope + 12 * (4096 + 64) + 2;
