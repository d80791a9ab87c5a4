import type { IngestionResult } from './api-ingestion';
import type { ScenarioResult } from './load-scenarios';

// The bench's verdict against issue 2's targets, and its table.

export interface TargetVerdict {
  readonly name: string;
  readonly target: string;
  readonly measured: string;
  readonly met: boolean;
}

export function verdicts(
  ingestion: IngestionResult,
  scenarios: readonly ScenarioResult[],
  targets: { cachedRate: number },
): TargetVerdict[] {
  const byName = new Map(scenarios.map((s) => [s.name, s]));
  const cached = byName.get('cached query')!;
  const uncached = byName.get('uncached query')!;
  const sustained = (s: ScenarioResult) => s.errorRate === 0 && s.droppedIterations === 0;
  return [
    {
      name: 'ingestion, local embedder',
      target: '≥ 200 chunks/s',
      measured: `${ingestion.chunksPerSecond} chunks/s`,
      met: ingestion.chunksPerSecond >= 200,
    },
    {
      name: `cached POST /v1/query at ${targets.cachedRate}/s`,
      target: 'p95 ≤ 10 ms, no errors or dropped arrivals',
      measured: `p95 ${cached.p95Ms} ms, ${cached.throughputPerSecond}/s`,
      met: cached.p95Ms <= 10 && sustained(cached),
    },
    {
      name: `uncached retrieval at ${uncached.model.replace('open, ', '')}`,
      target: 'p95 ≤ 50 ms, no errors or dropped arrivals',
      measured: `p95 ${uncached.p95Ms} ms, ${uncached.throughputPerSecond}/s`,
      met: uncached.p95Ms <= 50 && sustained(uncached),
    },
  ];
}

/**
 * Maximum-throughput ratio of an API scenario to bare Express (closed-model runs). Repeated rounds
 * (`cached max #2`) are pooled with the first, so the ratio is over the same wall-clock stretch.
 */
export function overheadRatios(scenarios: readonly ScenarioResult[]): Record<string, number> {
  const throughput = (name: string) => {
    const rounds = scenarios.filter((s) => s.name === name || s.name.startsWith(`${name} #`));
    return rounds.length
      ? rounds.reduce((sum, s) => sum + s.throughputPerSecond, 0) / rounds.length
      : undefined;
  };
  const hello = throughput('hello max');
  if (!hello) return {};
  const ratios: Record<string, number> = {};
  for (const name of ['cached max', 'uncached max']) {
    const api = throughput(name);
    if (api !== undefined) ratios[`${name} / hello max`] = Math.round((api / hello) * 1000) / 1000;
  }
  return ratios;
}

export function formatTable(scenarios: readonly ScenarioResult[]): string {
  const header = [
    'scenario',
    'model',
    'req/s',
    'p50 ms',
    'p95 ms',
    'p99 ms',
    'errors',
    'dropped',
    'cpu µs/req',
    'redis µs/req',
    'k6 µs/req',
  ];
  const rows = scenarios.map((s) => [
    s.name,
    s.model,
    String(s.throughputPerSecond),
    s.p50Ms.toFixed(2),
    s.p95Ms.toFixed(2),
    s.p99Ms.toFixed(2),
    `${(s.errorRate * 100).toFixed(2)}%`,
    String(s.droppedIterations),
    s.cpu ? s.cpu.processUsPerRequest.toFixed(0) : '–',
    s.cpu?.redisUsPerRequest !== undefined ? s.cpu.redisUsPerRequest.toFixed(0) : '–',
    s.cpu?.loadGeneratorUsPerRequest !== undefined
      ? s.cpu.loadGeneratorUsPerRequest.toFixed(0)
      : '–',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
