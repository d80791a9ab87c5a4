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
   * `hash`: its own fields or hash were changed;
   * `anchor`: its hash is not the one recorded for it earlier (the chain was rewritten from there
   * on, hashes recomputed), or it is gone with every row after it.
   */
  readonly kind: 'missing' | 'link' | 'hash' | 'anchor';
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

/** A row's id and hash as a previous run reported them (its head), kept where the database's
 * administrators cannot change it: the chain alone cannot tell a log rewritten from some row on,
 * every hash recomputed, or cut short, from an intact one. */
export interface ChainAnchor {
  readonly id: number;
  readonly hash: string;
}

export function parseAnchor(text: string): ChainAnchor {
  const m = /^(\d+):([0-9a-f]{64})$/.exec(text);
  if (!m) throw new Error(`an anchor is <id>:<64 hex digits>, not "${text}"`);
  return { id: Number(m[1]), hash: m[2] };
}

export async function verifyAuditChain(
  db: Knex,
  options: { readonly pageSize?: number; readonly anchors?: readonly ChainAnchor[] } = {},
): Promise<ChainReport> {
  const pageSize = options.pageSize ?? 1_000;
  const anchors = new Map((options.anchors ?? []).map((a) => [a.id, a.hash]));
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
      const broken = checkRow(row, previous, anchors.get(row.id));
      if (broken) return { verified, head: verified ? previous : undefined, broken };
      previous = { id: row.id, hash: row.hash };
      verified += 1;
    }
    if (page.length < pageSize) {
      const head = verified ? previous : undefined;
      const beyond = [...anchors.keys()].filter((id) => id > previous.id).sort((a, b) => a - b);
      if (beyond.length === 0) return { verified, head };
      const broken: ChainBreak = {
        id: beyond[0],
        kind: 'anchor',
        expected: `id ${beyond[0]} ${anchors.get(beyond[0])}`,
        found: `the log ends at id ${previous.id}`,
      };
      return { verified, head, broken };
    }
  }
}

function checkRow(
  row: ReturnType<typeof fromAuditEventRow>,
  previous: { id: number; hash: string },
  anchored: string | undefined,
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
  if (anchored !== undefined && anchored !== row.hash)
    return { id: row.id, kind: 'anchor', expected: anchored, found: row.hash };
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
    anchor: 'it is not the row the anchor recorded',
  }[broken.kind];
  return (
    `audit chain broken at event #${broken.id} (${what}): ` +
    `expected ${broken.expected}, found ${broken.found}; ${verified} events before it verified`
  );
}
