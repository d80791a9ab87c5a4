import { writeFileSync, rmSync } from 'node:fs';
import { eventually } from '../../../test-support/eventually';
import { datastores, psql } from '../stack/local-services';
import type { DrillStack } from '../stack/drill-stack';
import { runOk } from '../stack/processes';
import { shippedAlert } from './shipped-alerts';
import type { Traffic } from './traffic';
import { drillAuthHeaders } from '../stack/drill-credential';

// One fire drill per alert that can be produced on the local stack: the real fault a real incident
// would cause, injected into the real datastores (or, for the faults only an outage of production
// traffic could cause, through the service's drill-only fault file), and removed again.

export interface DrillContext {
  readonly stack: DrillStack;
  readonly traffic: Traffic;
}

export interface FireDrill {
  /** `npm run drill -- <name>`. */
  readonly name: string;
  readonly alert: string;
  readonly severity: 'critical' | 'warning';
  /** The fault, as the report states it. */
  readonly fault: string;
  /** Real time the fault needs beyond the scaled rule timings (value thresholds: lag seconds). */
  readonly realTimeMs?: number;
  /**
   * The alert another one inhibits on this fault (the shipped inhibition rules): the drill then
   * shows the alert active but suppressed in Alertmanager, and the inhibitor is what reaches
   * on-call (and what the times are measured on).
   */
  readonly inhibitedBy?: { readonly alert: string; readonly severity: 'critical' | 'warning' };
  inject(ctx: DrillContext): Promise<void>;
  remove(ctx: DrillContext): Promise<void>;
}

/**
 * The service's fault file (FAULT_INJECTION_FILE, app/src/faults/fault-file.ts): a file contract
 * between the drill and the process it drills, like the generated files between areas.
 */
interface InjectedFaults {
  routes?: {
    method: 'GET' | 'POST' | 'DELETE';
    route: string;
    status?: number;
    delayMs?: number;
  }[];
  ingestionPaused?: boolean;
}

function writeFaults(stack: DrillStack, faults: InjectedFaults): void {
  writeFileSync(stack.faultFile, JSON.stringify(faults));
}
function clearFaults(stack: DrillStack): void {
  rmSync(stack.faultFile, { force: true });
}

/** The threshold in a `metric > N` rule, so the drill follows the shipped value. */
function threshold(alert: string, severity: string): number {
  const m = / > (\d+(?:\.\d+)?)\s*$/.exec(shippedAlert(alert, severity).expr);
  if (!m) throw new Error(`no trailing threshold in ${alert}`);
  return Number(m[1]);
}

async function post(url: string, body: unknown): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...drillAuthHeaders() },
    body: JSON.stringify(body),
  });
}

export async function ingestMany(ctx: DrillContext, count: number, prefix: string): Promise<void> {
  const base = `${ctx.stack.serviceUrl}/v1/collections/${ctx.traffic.collection}/documents`;
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let i = next++; i < count; i = next++) {
        const r = await post(base, {
          source: `${prefix}-${i}.md`,
          content: `${prefix} document ${i}.`,
        });
        if (r.status !== 202)
          throw new Error(`ingest ${prefix}-${i}: ${r.status} ${await r.text()}`);
      }
    }),
  );
}

/** A trigger that fails every chunk insert: indexing fails until the job is dead-lettered. */
export async function rejectChunkWrites(stack: DrillStack): Promise<void> {
  await psql(
    stack.services.pgPort,
    `CREATE OR REPLACE FUNCTION drill_reject_chunks() RETURNS trigger LANGUAGE plpgsql AS
       $$ BEGIN RAISE EXCEPTION 'fire drill: chunk writes rejected'; END $$;
     CREATE OR REPLACE TRIGGER drill_reject_chunks BEFORE INSERT ON chunks
       FOR EACH ROW EXECUTE FUNCTION drill_reject_chunks()`,
  );
}

export async function allowChunkWrites(stack: DrillStack): Promise<void> {
  await psql(
    stack.services.pgPort,
    'DROP TRIGGER IF EXISTS drill_reject_chunks ON chunks; DROP FUNCTION IF EXISTS drill_reject_chunks()',
  );
}

/** The dead-lettered documents of a collection, once there are some. */
export async function deadDocuments(stack: DrillStack, collection: string): Promise<string[]> {
  const base = `${stack.serviceUrl}/v1/collections/${collection}/documents`;
  return eventually(
    async () => {
      const r = (await (
        await fetch(`${base}?status=dead&limit=100`, { headers: drillAuthHeaders() })
      ).json()) as {
        items: { id: string }[];
      };
      return r.items.length ? r.items.map((d) => d.id) : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 250, what: 'dead-lettered documents listed' },
  );
}

/** One query against the drill collection, a new question so neither cache answers it. */
async function queryOnce(ctx: DrillContext): Promise<Response> {
  return post(`${ctx.stack.serviceUrl}/v1/query`, {
    collection: ctx.traffic.collection,
    query: `How do I promote the Postgres replica? (${Date.now()})`,
    topK: 2,
  });
}

const queryRoute = { method: 'POST', route: '/v1/query' } as const;
const ingestRoute = { method: 'POST', route: '/v1/collections/:collectionId/documents' } as const;

export const fireDrills: readonly FireDrill[] = [
  {
    name: 'postgres-primary-down',
    alert: 'PostgresPrimaryDown',
    severity: 'critical',
    fault: 'the Postgres primary stopped (pg_ctl stop -m fast)',
    inject: ({ stack }) => datastores.stopPrimary(stack.services),
    remove: ({ stack }) => datastores.startPrimary(stack.services),
  },
  {
    name: 'postgres-replica-down',
    alert: 'PostgresReplicaDown',
    severity: 'warning',
    fault: 'the streaming replica stopped (pg_ctl stop -m fast)',
    inject: ({ stack }) => datastores.stopReplica(stack.services),
    remove: ({ stack }) => datastores.startReplica(stack.services),
  },
  {
    name: 'redis-down',
    alert: 'RedisDown',
    severity: 'warning',
    fault: 'Redis shut down (redis-cli shutdown nosave)',
    inject: ({ stack }) => datastores.stopRedis(stack.services),
    remove: ({ stack }) => datastores.startRedis(stack.services),
  },
  {
    name: 'postgres-replica-lagging',
    alert: 'PostgresReplicaLagging',
    severity: 'warning',
    fault:
      'WAL replay paused on the replica (pg_wal_replay_pause()) while the primary takes writes',
    // The lag threshold is a value (30 s of replay lag): real seconds on any clock.
    realTimeMs: 35_000,
    // Past DATABASE_REPLICA_MAX_LAG_SECONDS (5 s by default) the service stops reading from the
    // replica and reports it not up, so PostgresReplicaDown fires first and inhibits this alert.
    inhibitedBy: { alert: 'PostgresReplicaDown', severity: 'warning' },
    async inject({ stack, traffic }) {
      await psql(stack.services.replicaPort, 'SELECT pg_wal_replay_pause()');
      traffic.set({ ingestsPerSecond: 2 });
    },
    async remove({ stack, traffic }) {
      traffic.set({ ingestsPerSecond: 0 });
      await psql(stack.services.replicaPort, 'SELECT pg_wal_replay_resume()');
    },
  },
  {
    name: 'ingestion-dead-letters',
    alert: 'IngestionDeadLetters',
    severity: 'warning',
    fault:
      'a trigger on chunks rejects every insert, so indexing fails until the job is dead-lettered',
    async inject(ctx) {
      await rejectChunkWrites(ctx.stack);
      await ingestMany(ctx, 1, `dead-letter-${Date.now()}`);
    },
    async remove({ stack, traffic }) {
      await allowChunkWrites(stack);
      // runbooks/procedures/replay-dead-letters.md: re-queue each dead document through the API.
      const base = `${stack.serviceUrl}/v1/collections/${traffic.collection}/documents`;
      for (const id of await deadDocuments(stack, traffic.collection)) {
        const r = await fetch(`${base}/${id}/retry`, {
          method: 'POST',
          headers: drillAuthHeaders(),
        });
        if (r.status >= 300) throw new Error(`retry ${id}: ${r.status} ${await r.text()}`);
      }
    },
  },
  {
    name: 'ingestion-backlog',
    alert: 'IngestionBacklog',
    severity: 'warning',
    fault:
      'ingestion workers stalled (drill fault file: ingestionPaused) while documents keep arriving',
    async inject(ctx) {
      writeFaults(ctx.stack, { ingestionPaused: true });
      // Past the threshold even with every worker holding one job.
      await ingestMany(ctx, threshold('IngestionBacklog', 'warning') + 20, `backlog-${Date.now()}`);
    },
    async remove({ stack }) {
      clearFaults(stack);
    },
  },
  {
    name: 'ingestion-freshness',
    alert: 'IngestionFreshnessBudgetBurn',
    severity: 'critical',
    fault:
      'ingestion workers stalled for longer than the 60 s freshness objective, then released: the held documents index late',
    // The freshness objective is a value (60 s from upload to searchable): real seconds.
    realTimeMs: 70_000,
    async inject(ctx) {
      writeFaults(ctx.stack, { ingestionPaused: true });
      await ingestMany(ctx, 40, `stale-${Date.now()}`);
      const held = Date.now();
      await eventually(() => Date.now() - held > 61_000, {
        timeoutMs: 120_000,
        intervalMs: 1_000,
        what: 'the held documents older than the freshness objective',
      });
      clearFaults(ctx.stack);
    },
    async remove({ traffic }) {
      // Fresh uploads indexed in time bring the bad share back under the burn thresholds.
      traffic.set({ ingestsPerSecond: 5 });
    },
  },
  {
    name: 'query-availability',
    alert: 'QueryAvailabilityBudgetBurn',
    severity: 'critical',
    fault: 'every query answers 503 (drill fault file on POST /v1/query)',
    async inject({ stack, traffic }) {
      traffic.set({ queriesPerSecond: 5 });
      writeFaults(stack, { routes: [{ ...queryRoute, status: 503 }] });
    },
    async remove({ stack }) {
      clearFaults(stack);
    },
  },
  {
    name: 'query-latency',
    alert: 'QueryLatencyBudgetBurn',
    severity: 'critical',
    fault: 'every query takes 1.5 s, above the 1 s objective (drill fault file on POST /v1/query)',
    async inject({ stack, traffic }) {
      traffic.set({ queriesPerSecond: 5 });
      writeFaults(stack, { routes: [{ ...queryRoute, delayMs: 1_500 }] });
    },
    async remove({ stack }) {
      clearFaults(stack);
    },
  },
  {
    name: 'ingest-availability',
    alert: 'IngestAvailabilityBudgetBurn',
    severity: 'critical',
    fault:
      'every upload answers 503 (drill fault file on POST /v1/collections/:collectionId/documents)',
    async inject({ stack, traffic }) {
      traffic.set({ ingestsPerSecond: 5 });
      writeFaults(stack, { routes: [{ ...ingestRoute, status: 503 }] });
    },
    async remove({ stack }) {
      clearFaults(stack);
    },
  },
  {
    name: 'cache-hit-ratio-collapse',
    alert: 'CacheHitRatioCollapse',
    severity: 'warning',
    fault:
      'Redis maxmemory cut to 1 MB with allkeys-lru: every entry is evicted as soon as it is written',
    async inject({ stack, traffic }) {
      traffic.set({ queriesPerSecond: 5 });
      const port = String(stack.services.redisPort);
      await redisCli(['-p', port, 'config', 'set', 'maxmemory-policy', 'allkeys-lru']);
      await redisCli(['-p', port, 'config', 'set', 'maxmemory', '1mb']);
    },
    async remove({ stack }) {
      const port = String(stack.services.redisPort);
      await redisCli(['-p', port, 'config', 'set', 'maxmemory', '0']);
      await redisCli(['-p', port, 'config', 'set', 'maxmemory-policy', 'noeviction']);
    },
  },
  {
    name: 'embedder-down',
    alert: 'EmbedderDown',
    severity: 'critical',
    fault: 'the embedding endpoint answers 503 to everything (the stand-in model server failing)',
    async inject(ctx) {
      ctx.stack.models.fail('embedder', true);
      // Questions never asked before: the embedding cache cannot answer them, so every query calls
      // the failing endpoint, as in an outage.
      ctx.traffic.set({ queriesPerSecond: 1, uniqueQueries: true });
      const r = await queryOnce(ctx);
      await r.body?.cancel();
      if (r.status !== 503) throw new Error(`a query with the embedder down answered ${r.status}`);
    },
    async remove({ stack, traffic }) {
      // The queries' 503s burn the availability budget; stopping them first keeps that page,
      // inhibited while EmbedderDown fires, from outliving the drill.
      traffic.set({ queriesPerSecond: 0 });
      stack.models.fail('embedder', false);
    },
  },
  {
    name: 'chat-endpoint-down',
    alert: 'ChatEndpointDown',
    severity: 'warning',
    fault:
      'the chat completion endpoint answers 503 to everything (the stand-in model server failing)',
    async inject(ctx) {
      ctx.stack.models.fail('chat', true);
      ctx.traffic.set({ queriesPerSecond: 1, uniqueQueries: true });
      // What the alert promises on-call: queries still succeed, with extractive answers.
      const r = await queryOnce(ctx);
      const body = await r.text();
      if (r.status !== 200) {
        throw new Error(`a query with the chat endpoint down answered ${r.status}: ${body}`);
      }
    },
    async remove({ stack, traffic }) {
      traffic.set({ queriesPerSecond: 0 });
      stack.models.fail('chat', false);
    },
  },
];

async function redisCli(args: string[]): Promise<void> {
  await runOk('redis-cli', args);
}

export function fireDrill(name: string): FireDrill {
  const drill = fireDrills.find((d) => d.name === name);
  if (!drill) {
    throw new Error(`no fire drill "${name}"; drills: ${fireDrills.map((d) => d.name).join(', ')}`);
  }
  return drill;
}
