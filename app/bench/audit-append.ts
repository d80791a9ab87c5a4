// `npm run bench -- audit`: the audit log's append path (app/src/stores/postgres/
// audit-log-repository.ts) and the chain verifier on a throwaway database of the real primary.
//
//   1. One caller recording one event at a time: the latency a request pays for its audit row.
//   2. Concurrent callers over two "instances" (separate pools), group commit on (batches of up to
//      200) and off (one event per transaction): events per second and latency under contention
//      for the advisory lock.
//   3. `verifyAuditChain` over everything written: rows verified per second.
//
// BENCH_AUDIT_EVENTS (5000) events per concurrent run, BENCH_AUDIT_CALLERS (32) callers. Results go
// to bench-results/audit.json (BENCH_RESULTS_PATH).
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import path from 'node:path';
import knex, { type Knex } from 'knex';
import type { AuditEvent } from '../src/domain/audit';
import { verifyAuditChain } from '../src/stores/postgres/audit-chain-verifier';
import { AuditLogRepository } from '../src/stores/postgres/audit-log-repository';
import { migrateLatest } from '../src/stores/postgres/migrations';
import { acquireBackingServices, createThrowawayDatabase } from './bench-services';
import { summarize, type LatencySummary } from './bench-stats';

function setting(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number`);
  return value;
}

const event = (n: number): AuditEvent => ({
  type: 'document.created',
  actor: `principal-${n % 17}`,
  target: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
  collection: 'bench',
  detail: { source: `docs/file-${n}.md`, bytes: 1000 + n, replaced: n % 3 === 0 },
  sourceIp: '203.0.113.7',
  requestId: `bench-${n}`,
});

interface ConcurrentResult {
  readonly events: number;
  readonly eventsPerSecond: number;
  readonly transactions: number;
  readonly latency: LatencySummary;
}

async function concurrent(
  pools: Knex[],
  options: { events: number; callers: number; maxBatch: number; offset: number },
): Promise<ConcurrentResult> {
  let transactions = 0;
  const logs = pools.map(
    (pool) =>
      new AuditLogRepository(
        {
          transaction: (fn) => {
            transactions += 1;
            return pool.transaction(fn);
          },
        },
        { maxBatch: options.maxBatch },
      ),
  );
  const samples: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: options.callers }, async (_, caller) => {
      const log = logs[caller % logs.length];
      while (next < options.events) {
        const n = options.offset + next++;
        const t = performance.now();
        await log.record(event(n));
        samples.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return {
    events: samples.length,
    eventsPerSecond: Math.round(samples.length / seconds),
    transactions,
    latency: summarize(samples),
  };
}

export async function main(): Promise<void> {
  const events = setting('BENCH_AUDIT_EVENTS', 5_000);
  const callers = setting('BENCH_AUDIT_CALLERS', 32);
  const services = await acquireBackingServices();
  const db = await createThrowawayDatabase(services);
  const pools = [0, 1].map(() =>
    knex({ client: 'pg', connection: db.primaryUrl, pool: { min: 0, max: 10 } }),
  );
  try {
    await migrateLatest(pools[0]);
    const single = new AuditLogRepository({ transaction: (fn) => pools[0].transaction(fn) });
    const sequentialSamples: number[] = [];
    for (let n = 0; n < 500; n++) {
      const t = performance.now();
      await single.record(event(n));
      sequentialSamples.push(performance.now() - t);
    }
    const sequential = summarize(sequentialSamples);
    const grouped = await concurrent(pools, { events, callers, maxBatch: 200, offset: 500 });
    const oneByOne = await concurrent(pools, {
      events,
      callers,
      maxBatch: 1,
      offset: 500 + events,
    });
    const t = performance.now();
    const report = await verifyAuditChain(pools[0]);
    const verifySeconds = (performance.now() - t) / 1000;
    if (report.broken) throw new Error(`the chain broke during the bench: ${report.broken.id}`);

    const results = {
      machine: { cpus: cpus().length, loadavg: loadavg().map((l) => Math.round(l * 100) / 100) },
      sequential,
      concurrent: { callers, groupCommit: grouped, oneEventPerTransaction: oneByOne },
      verify: {
        rows: report.verified,
        seconds: Math.round(verifySeconds * 100) / 100,
        rowsPerSecond: Math.round(report.verified / verifySeconds),
      },
    };
    console.log(JSON.stringify(results, null, 2));
    const resultsPath = path.resolve(
      process.env.BENCH_RESULTS_PATH ?? path.join('bench-results', 'audit.json'),
    );
    mkdirSync(path.dirname(resultsPath), { recursive: true });
    writeFileSync(resultsPath, JSON.stringify(results, null, 2) + '\n');
  } finally {
    await Promise.all(pools.map((p) => p.destroy()));
    await db.drop();
    await services.release();
  }
}
