import { createHash } from 'node:crypto';
import type { AuditEvent } from '../../domain/audit';

// The audit log's row and its hash: one definition shared by the appender and the verifier, so a
// row hashes the same when written and when checked. The hash covers every field of the row and
// the previous row's hash, serialized canonically (a JSON array in a fixed order, the detail as
// key-sorted pairs), so changing, removing or reordering anything breaks the chain from that row on.

/** The previous hash of the first row. */
export const genesisHash = '0'.repeat(64);

/** Names the serialization, so a future format can be told apart from this one. */
const formatVersion = 'rag-audit-v1';

export type AuditDetail = Readonly<Record<string, string | number | boolean | null>>;

/** One row of audit_events, exactly as it reads back from Postgres. */
export interface AuditRow {
  readonly id: number;
  /** Millisecond precision: what a JavaScript Date holds, so it reads back unchanged. */
  readonly occurredAt: Date;
  readonly type: string;
  readonly actor: string | null;
  readonly target: string | null;
  readonly collection: string | null;
  readonly detail: AuditDetail;
  readonly sourceIp: string | null;
  readonly requestId: string | null;
  readonly prevHash: string;
}

export interface HashedAuditRow extends AuditRow {
  readonly hash: string;
}

export function auditHash(row: AuditRow): string {
  const detail = Object.keys(row.detail)
    .sort()
    .map((k) => [k, row.detail[k]]);
  const canonical = JSON.stringify([
    formatVersion,
    String(row.id),
    row.occurredAt.toISOString(),
    row.type,
    row.actor,
    row.target,
    row.collection,
    detail,
    row.sourceIp,
    row.requestId,
    row.prevHash,
  ]);
  return createHash('sha256').update(canonical, 'utf8').digest('hex');
}

// Events carry caller-supplied text (a collection id from a path, a request id, a failed
// credential's claimed key id): bounded so a hostile caller cannot bloat the log, and made
// storable as is, since Postgres text holds no U+0000 and a lone surrogate would be replaced on
// the way in, making the stored row hash differently from the one hashed here.
const maxFieldChars = 512;
const maxDetailKeys = 32;
const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

function storable(value: string): string {
  const bounded = value.length > maxFieldChars ? `${value.slice(0, maxFieldChars)}…` : value;
  return bounded.replace(loneSurrogate, '\uFFFD').replaceAll('\u0000', '\uFFFD');
}

const optional = (value: string | undefined | null): string | null =>
  value === undefined || value === null ? null : storable(value);

function storableDetail(detail: AuditEvent['detail']): AuditDetail {
  // No prototype: a `__proto__` key is then kept as data, as JSON.parse reads it back.
  const out = Object.create(null) as Record<string, string | number | boolean | null>;
  for (const [key, value] of Object.entries(detail ?? {}).slice(0, maxDetailKeys)) {
    // JSON has no NaN or Infinity: what jsonb would hold for one (null) is what gets hashed.
    out[storable(key)] =
      typeof value === 'string'
        ? storable(value)
        : typeof value === 'number' && !Number.isFinite(value)
          ? null
          : value;
  }
  return out;
}

/** The row an event becomes at position `id` after `prevHash`. */
export function auditRow(
  event: AuditEvent,
  at: { id: number; occurredAt: Date; prevHash: string },
): HashedAuditRow {
  const row: AuditRow = {
    id: at.id,
    occurredAt: at.occurredAt,
    type: event.type,
    actor: optional(event.actor),
    target: optional(event.target),
    collection: optional(event.collection),
    detail: storableDetail(event.detail),
    sourceIp: optional(event.sourceIp),
    requestId: optional(event.requestId),
    prevHash: at.prevHash,
  };
  return { ...row, hash: auditHash(row) };
}
