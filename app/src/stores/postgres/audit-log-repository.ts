import type { Knex } from 'knex';
import { auditEventTypes, type AuditEvent, type AuditLog } from '../../domain/audit';
import { auditRow, genesisHash, type AuditDetail, type HashedAuditRow } from './audit-chain';
import type { Database } from './database';
import { withPostgres } from './postgres-errors';

// The AuditLog port on Postgres: appends to `audit_events` on the primary, each row chained to the
// one before (app/migrations/20261201000100_create_audit_events.ts).
//
// One chain across every instance needs appends serialized: each takes the previous row's id and
// hash. They are serialized with a transaction-scoped advisory lock rather than `SELECT ... FOR
// UPDATE` on the head row: FOR UPDATE needs the UPDATE privilege, which the service's role must not
// hold on this table, and a separate head row would be rewritten on every append (a dead tuple
// each time, one more table to protect). The lock needs no privilege, is released by commit or
// rollback (a crashed instance cannot leave it held), and the insert trigger still refuses a row
// that does not extend the chain, so a writer that skips the lock fails rather than forks it.
//
// Events recorded while an append is in flight wait and go together in the next transaction (a
// group commit), so under load the lock is taken once per batch rather than once per event.
// `record` resolves only after its event's transaction committed.

/** Two-key advisory lock space (never overlaps pg-boss's single-key locks). */
const lockSql = "SELECT pg_advisory_xact_lock(hashtext('rag-platform.audit_events'), 0)";

export interface AuditEventRow {
  id: string | number;
  occurred_at: Date;
  type: string;
  actor: string | null;
  target: string | null;
  collection: string | null;
  detail: AuditDetail;
  source_ip: string | null;
  request_id: string | null;
  prev_hash: string;
  hash: string;
}

export function fromAuditEventRow(r: AuditEventRow): HashedAuditRow {
  return {
    id: Number(r.id),
    occurredAt: r.occurred_at,
    type: r.type,
    actor: r.actor,
    target: r.target,
    collection: r.collection,
    detail: r.detail,
    sourceIp: r.source_ip,
    requestId: r.request_id,
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}

function toAuditEventRow(r: HashedAuditRow): Omit<AuditEventRow, 'detail'> & { detail: string } {
  return {
    id: r.id,
    occurred_at: r.occurredAt,
    type: r.type,
    actor: r.actor,
    target: r.target,
    collection: r.collection,
    detail: JSON.stringify(r.detail),
    source_ip: r.sourceIp,
    request_id: r.requestId,
    prev_hash: r.prevHash,
    hash: r.hash,
  };
}

interface Pending {
  readonly event: AuditEvent;
  readonly occurredAt: Date;
  resolve(): void;
  reject(err: unknown): void;
}

const knownTypes: ReadonlySet<string> = new Set(auditEventTypes);

export class AuditLogRepository implements AuditLog {
  private pending: Pending[] = [];
  private flushing: Promise<void> | undefined;

  constructor(
    private readonly db: Pick<Database, 'transaction'>,
    private readonly options: { readonly maxBatch?: number } = {},
  ) {}

  record(event: AuditEvent): Promise<void> {
    // A programming error, not bad input: the type list is the domain's.
    if (!knownTypes.has(event.type)) {
      return Promise.reject(new TypeError(`unknown audit event type "${event.type}"`));
    }
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ event, occurredAt: new Date(), resolve, reject });
      this.flushing ??= this.flush();
    });
  }

  private async flush(): Promise<void> {
    const maxBatch = this.options.maxBatch ?? 200;
    try {
      while (this.pending.length > 0) {
        const batch = this.pending.splice(0, maxBatch);
        try {
          await withPostgres(() => this.db.transaction((trx) => this.append(trx, batch)));
          for (const p of batch) p.resolve();
        } catch (err) {
          for (const p of batch) p.reject(err);
        }
      }
    } finally {
      // In the same turn as the last emptiness check: an event recorded by a caller woken by the
      // last batch (a microtask, so later) sees no flush in flight and starts one. Clearing the
      // marker in a `.finally()` callback instead ran after those callers and stranded their events.
      this.flushing = undefined;
    }
  }

  private async append(trx: Knex.Transaction, batch: readonly Pending[]): Promise<void> {
    await trx.raw(lockSql);
    const head = await trx<AuditEventRow>('audit_events')
      .select('id', 'hash')
      .orderBy('id', 'desc')
      .first();
    let id = head ? Number(head.id) : 0;
    let prevHash = head ? head.hash : genesisHash;
    const rows = batch.map((p) => {
      id += 1;
      const row = auditRow(p.event, { id, occurredAt: p.occurredAt, prevHash });
      prevHash = row.hash;
      return toAuditEventRow(row);
    });
    await trx('audit_events').insert(rows);
  }
}
