import { hash } from 'node:crypto';

/**
 * Deterministic chunk id: the first 128 bits of sha-256(documentId, ordinal, text), formatted as an
 * RFC 9562 version-8 ("custom") UUID, because Qdrant accepts only UUIDs or unsigned integers as
 * point ids. Re-ingesting identical text yields identical ids, so unchanged chunks are kept.
 */
export function chunkId(documentId: string, ordinal: number, text: string): string {
  // One-shot hashing of the joined string (the same bytes as feeding the parts one by one): a
  // document of many tiny sections makes one id per section, and a Hash object each costs more
  // than the digest itself.
  const hex = hash('sha256', `${documentId}\0${ordinal}\0${text}`, 'hex');
  const variant = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
