import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

// Runs k6 scripts from Node (the loadtest tests and `npm run bench`) and reads back the summary.

export const repoRoot = path.resolve(__dirname, '../..');

/** k6 from PATH (scripts/test.sh puts Go's bin there) or where scripts/tools/k6.sh installs it. */
export function k6Binary(): string {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && existsSync(path.join(dir, 'k6'))) return path.join(dir, 'k6');
  }
  const gopath = execFileSync('go', ['env', 'GOPATH'], { encoding: 'utf8' }).trim();
  const installed = path.join(gopath, 'bin', 'k6');
  if (!existsSync(installed)) throw new Error('k6 is not installed: run scripts/tools/k6.sh');
  return installed;
}

export type K6MetricSummary = Record<string, number> & { thresholds?: Record<string, boolean> };

/** The `--summary-export` JSON: per metric its values and, per threshold, true when it failed. */
export interface K6SummaryExport {
  metrics: Record<string, K6MetricSummary>;
  root_group?: { checks?: Record<string, { name: string; passes: number; fails: number }> };
}

/** Names of the checks that failed at least once, with their failure counts. */
export function failedChecks(summary: K6SummaryExport): Record<string, number> {
  return Object.fromEntries(
    Object.values(summary.root_group?.checks ?? {})
      .filter((c) => c.fails > 0)
      .map((c) => [c.name, c.fails]),
  );
}

export interface K6Run {
  /** 0 passed, 99 thresholds failed, anything else: k6 or the script broke. */
  code: number | null;
  output: string;
  summary: K6SummaryExport;
}

/** Runs `k6 run` on a script (relative to the repository root) with `--env` settings. */
export async function runK6(script: string, env: Record<string, string>): Promise<K6Run> {
  const dir = mkdtempSync(path.join(tmpdir(), 'k6-run-'));
  const summaryPath = path.join(dir, 'summary.json');
  try {
    const args = ['run', '--quiet', '--no-usage-report', '--summary-export', summaryPath];
    for (const [name, value] of Object.entries(env)) args.push('--env', `${name}=${value}`);
    const child = spawn(k6Binary(), [...args, script], { cwd: repoRoot });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    if (!existsSync(summaryPath)) throw new Error(`k6 wrote no summary (exit ${code}):\n${output}`);
    return { code, output, summary: JSON.parse(readFileSync(summaryPath, 'utf8')) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Number of samples behind a metric of the summary export (trend count, or rate passes + fails). */
export function sampleCount(metric: K6MetricSummary | undefined): number {
  if (!metric) return 0;
  if (metric.count !== undefined) return metric.count;
  return (metric.passes ?? 0) + (metric.fails ?? 0);
}

/** Thresholds that failed, as `metric expression`. */
export function failedThresholds(summary: K6SummaryExport): string[] {
  return Object.entries(summary.metrics).flatMap(([name, metric]) =>
    Object.entries(metric.thresholds ?? {})
      .filter(([, failed]) => failed)
      .map(([expression]) => `${name} ${expression}`),
  );
}
