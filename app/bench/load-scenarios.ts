import { failedChecks, runK6, type K6SummaryExport } from '../../loadtest/src/k6-runner';
import { runApiKey } from '../test/support/test-credential';
import type { CpuPerRequest } from './cpu-accounting';

// One k6 run of loadtest/k6/bench.js per scenario, read back into plain numbers.

export type BenchTarget = 'cached' | 'uncached' | 'hello';

export interface LoadScenario {
  readonly name: string;
  readonly target: BenchTarget;
  readonly baseUrl: string;
  readonly seconds: number;
  /** Open model: requests per second. */
  readonly rate?: number;
  /** Closed model: this many users back to back (measures the maximum throughput). */
  readonly vus?: number;
  readonly questionsFile?: string;
  /** The bearer credential k6 sends (default: the run's super admin API key). */
  readonly apiToken?: string;
  /**
   * k6 discards response bodies and checks the status only: for a service that hides `cached`
   * (production's default), whose cache hits the caller then reads from the service's metrics.
   */
  readonly statusOnly?: boolean;
}

export interface ScenarioResult {
  readonly name: string;
  readonly target: BenchTarget;
  readonly model: string;
  readonly requests: number;
  readonly throughputPerSecond: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly errorRate: number;
  /** Arrivals k6 could not start because every VU was busy: the rate was not sustained. */
  readonly droppedIterations: number;
  readonly failedChecks: number;
  /** Which checks failed, by name (a cached scenario whose answers were not cached, say). */
  readonly failedCheckNames: Record<string, number>;
  /** CPU per request of the bench process (service or bare Express) and of Redis, when measured. */
  readonly cpu?: CpuPerRequest;
}

export async function runLoadScenario(scenario: LoadScenario): Promise<ScenarioResult> {
  const env: Record<string, string> = {
    BENCH_TARGET: scenario.target,
    BASE_URL: scenario.baseUrl,
    DURATION: `${scenario.seconds}s`,
    API_TOKEN: scenario.apiToken ?? runApiKey,
  };
  if (scenario.vus) env.VUS = String(scenario.vus);
  else env.RATE = String(scenario.rate);
  if (scenario.questionsFile) env.QUESTIONS_FILE = scenario.questionsFile;
  if (scenario.statusOnly) env.STATUS_ONLY = 'true';
  const run = await runK6('loadtest/k6/bench.js', env);
  if (run.code !== 0) throw new Error(`k6 ${scenario.name} exited ${run.code}:\n${run.output}`);
  return toResult(scenario, run.summary);
}

function toResult(scenario: LoadScenario, summary: K6SummaryExport): ScenarioResult {
  const m = summary.metrics;
  const duration = m.http_req_duration;
  const round = (x: number | undefined) => Math.round((x ?? 0) * 100) / 100;
  return {
    name: scenario.name,
    target: scenario.target,
    model: scenario.vus ? `closed, ${scenario.vus} VUs` : `open, ${scenario.rate}/s`,
    requests: m.http_reqs?.count ?? 0,
    throughputPerSecond: Math.round(m.http_reqs?.rate ?? 0),
    p50Ms: round(duration?.med),
    p95Ms: round(duration?.['p(95)']),
    p99Ms: round(duration?.['p(99)']),
    maxMs: round(duration?.max),
    errorRate: m.http_req_failed?.value ?? 0,
    droppedIterations: m.dropped_iterations?.count ?? 0,
    failedChecks: m.checks?.fails ?? 0,
    failedCheckNames: failedChecks(summary),
  };
}
