import { createHash } from 'node:crypto';
import type { DocumentRecord, DocumentStatus, MediaType } from '../../domain/document';

// The `documents` table as the repositories read it, shared by the request side
// (documents-repository) and the worker side (indexing-repository).

export interface DocumentRow {
  id: string;
  seq: string;
  collection_id: string;
  source: string;
  title: string | null;
  media_type: MediaType;
  content?: string;
  content_hash: string;
  size_bytes: number;
  metadata: Record<string, string>;
  status: DocumentStatus;
  attempts: number;
  last_error: string | null;
  chunk_count: number;
  accepted_at: Date;
  indexed_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

/** Every column but `content`, which only the worker needs. */
export const summaryColumns: string[] = [
  'id',
  'seq',
  'collection_id',
  'source',
  'title',
  'media_type',
  'content_hash',
  'size_bytes',
  'metadata',
  'status',
  'attempts',
  'last_error',
  'chunk_count',
  'accepted_at',
  'indexed_at',
  'created_at',
  'updated_at',
];

export function contentHash(content: string): string {
  return createHash('sha256').update(content, 'utf8').digest('hex');
}

export function toDocument(row: DocumentRow): DocumentRecord {
  return {
    id: row.id,
    collectionKey: row.collection_id,
    source: row.source,
    title: row.title,
    mediaType: row.media_type,
    contentHash: row.content_hash,
    sizeBytes: row.size_bytes,
    metadata: row.metadata,
    status: row.status,
    attempts: row.attempts,
    lastError: row.last_error,
    chunkCount: row.chunk_count,
    acceptedAt: row.accepted_at,
    indexedAt: row.indexed_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
