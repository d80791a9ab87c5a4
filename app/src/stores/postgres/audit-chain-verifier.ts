import type { Knex } from 'knex';
import { auditHash, genesisHash } from './audit-chain';
import { fromAuditEventRow, type AuditEventRow } from './audit-log-repository';

// Walks audit_events in id order and recomputes every hash (`npm run audit:verify`). The first
// row that does not follow from the one before is reported: what makes that row the break and the
// value expected there against the value found.

export interface ChainBreak {
  /** The first row that does not follow from the one before it. */
  readonly id: number;
  /**
   * `missing`: the row's id does not follow the previous row's (rows before it were removed);
   * `link`: its prev_hash is not the previous row's hash (a row before it was removed or replaced);
   * `hash`: its own fields or hash were changed.
   */
  readonly kind: 'missing' | 'link' | 'hash';
  readonly expected: string;
  readonly found: string;
}

export interface ChainReport {
  /** Rows that verified, all of them when the chain is intact. */
  readonly verified: number;
  /** The last verified row: recording it elsewhere lets a later run prove nothing was cut off. */
  readonly head?: { readonly id: number; readonly hash: string };
  readonly broken?: ChainBreak;
}

export async function verifyAuditChain(
  db: Knex,
  options: { readonly pageSize?: number } = {},
): Promise<ChainReport> {
  const pageSize = options.pageSize ?? 1_000;
  let previous = { id: 0, hash: genesisHash };
  let verified = 0;
  for (;;) {
    // Keyset pages: constant memory and no long transaction however long the log.
    const page = await db<AuditEventRow>('audit_events')
      .select('*')
      .where('id', '>', previous.id)
      .orderBy('id')
      .limit(pageSize);
    for (const raw of page) {
      const row = fromAuditEventRow(raw);
      const broken = checkRow(row, previous);
      if (broken) return { verified, head: verified ? previous : undefined, broken };
      previous = { id: row.id, hash: row.hash };
      verified += 1;
    }
    if (page.length < pageSize) return { verified, head: verified ? previous : undefined };
  }
}

function checkRow(
  row: ReturnType<typeof fromAuditEventRow>,
  previous: { id: number; hash: string },
): ChainBreak | undefined {
  if (row.id !== previous.id + 1) {
    return {
      id: row.id,
      kind: 'missing',
      expected: `id ${previous.id + 1}`,
      found: `id ${row.id}`,
    };
  }
  if (row.prevHash !== previous.hash) {
    return { id: row.id, kind: 'link', expected: previous.hash, found: row.prevHash };
  }
  const expected = auditHash(row);
  if (expected !== row.hash) return { id: row.id, kind: 'hash', expected, found: row.hash };
  return undefined;
}

export function describeChainReport(report: ChainReport): string {
  const { broken, head, verified } = report;
  if (!broken) {
    return head
      ? `audit chain intact: ${verified} events, head #${head.id} ${head.hash}`
      : 'audit chain intact: 0 events';
  }
  const what = {
    missing: 'rows before it are missing',
    link: "prev_hash is not the previous row's hash",
    hash: 'its content does not match its hash',
  }[broken.kind];
  return (
    `audit chain broken at event #${broken.id} (${what}): ` +
    `expected ${broken.expected}, found ${broken.found}; ${verified} events before it verified`
  );
}
