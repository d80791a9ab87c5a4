import { InvalidInputError } from '../../domain/errors';

// Qdrant addresses payload fields in filters and indexes with a path string, not a list of keys:
// `a.b` is key `b` inside object `a`, `a[0]` and `a[]` index arrays. A segment written bare may only
// hold letters, digits, `_` and `-`; anything else (a `.` in particular) must be written in double
// quotes, which Qdrant reads verbatim with no escape sequences, so a key containing `"` or `\` has
// no path at all. Grammar: qdrant/qdrant lib/segment/src/json_path/parse.rs (`raw_str`,
// `quoted_str`); quoted names per the maintainers in qdrant/qdrant-client#631.

const bareSegment = /^[A-Za-z0-9_-]+$/;

/** Whether `key` can be addressed in a Qdrant payload path at all. */
export function isAddressablePayloadKey(key: string): boolean {
  return !key.includes('"') && !key.includes('\\');
}

/** The Qdrant path of the field reached by following `keys` from the payload root, each key literal. */
export function qdrantPayloadPath(keys: readonly string[]): string {
  if (keys.length === 0) throw new RangeError('a payload path needs at least one key');
  return keys.map(segment).join('.');
}

/** Path of a document metadata key, which the adapter stores under the payload's `metadata` object. */
export function metadataPayloadPath(key: string): string {
  return qdrantPayloadPath(['metadata', key]);
}

function segment(key: string): string {
  if (bareSegment.test(key)) return key;
  if (!isAddressablePayloadKey(key)) {
    throw new InvalidInputError(
      `metadata key ${JSON.stringify(key)} cannot be filtered on: Qdrant paths have no escape for '"' or '\\'`,
    );
  }
  return `"${key}"`;
}
