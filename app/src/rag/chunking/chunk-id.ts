import { createHash } from 'node:crypto';

/**
 * Deterministic chunk id: the first 128 bits of sha-256(documentId, ordinal, text), formatted as an
 * RFC 9562 version-8 ("custom") UUID, because Qdrant accepts only UUIDs or unsigned integers as
 * point ids. Re-ingesting identical text yields identical ids, so unchanged chunks are kept.
 */
export function chunkId(documentId: string, ordinal: number, text: string): string {
  const bytes = createHash('sha256')
    .update(documentId)
    .update('\0')
    .update(String(ordinal))
    .update('\0')
    .update(text)
    .digest()
    .subarray(0, 16);
  bytes[6] = (bytes[6] & 0x0f) | 0x80;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
