import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';

// Post-deploy SLO watch: for a configurable time after a deploy, ask Prometheus whether any of the
// page-level burn-rate alerts generated from the SLOs (alerts/generated/slo.rules.yaml) is pending
// or firing. Pending counts: its condition (short and long window over the page threshold) already
// holds, and waiting out its `for:` would let the bad version serve longer. Alerts already active
// when the watch starts are the incident a hotfix is deployed into: reported, not held against it.
//   node -r ts-node/register/transpile-only infra/scripts/slo-watch.ts \
//     --prometheus http://127.0.0.1:9090 --duration 15m [--interval 30s]
// Exit 0: the window passed clean. 1: a burn alert became active. 2: the watch could not see
// (Prometheus unreachable, or the SLO alert rules are not loaded): that is not a pass.

const repoRoot = path.resolve(__dirname, '../..');

interface RuleGroup {
  rules: { alert?: string; labels?: Record<string, string> }[];
}

/** Names of the SLO burn-rate alerts that page, from the generated rules. */
export function pageBurnAlerts(root = repoRoot): string[] {
  const file = path.join(root, 'alerts', 'generated', 'slo.rules.yaml');
  const groups = (parse(readFileSync(file, 'utf8')) as { groups: RuleGroup[] }).groups;
  const names = groups.flatMap((g) =>
    g.rules.filter((r) => r.alert && r.labels?.severity === 'critical').map((r) => r.alert!),
  );
  return [...new Set(names)].sort();
}

export function parseDuration(text: string): number {
  const m = /^(\d+)(ms|s|m|h)$/.exec(text);
  if (!m) throw new Error(`not a duration: ${text} (e.g. 90s, 15m)`);
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
}

export interface WatchOptions {
  prometheus: string;
  durationMs: number;
  intervalMs: number;
  alerts?: string[];
  /** How long Prometheus may take to answer at all (default 30 s). */
  startupTimeoutMs?: number;
  log?: (line: string) => void;
}

export interface WatchResult {
  outcome: 'pass' | 'burn' | 'blind';
  /** `alertname{slo,alertstate}` of the burn alerts that became active during the window. */
  active: string[];
  /** Those already active when the watch began (not held against the deploy). */
  preexisting: string[];
  evaluations: number;
  message: string;
}

interface Sample {
  metric: Record<string, string>;
}

async function api<T>(base: string, p: string): Promise<T> {
  const res = await fetch(new URL(p, base), { signal: AbortSignal.timeout(10_000) });
  const body = (await res.json()) as { status: string; data: T; error?: string };
  if (body.status !== 'success') throw new Error(`${p}: ${body.error ?? res.status}`);
  return body.data;
}

const key = (m: Record<string, string>) =>
  `${m.alertname}{slo="${m.slo ?? ''}",alertstate="${m.alertstate}"}`;
const identity = (m: Record<string, string>) => `${m.alertname}/${m.slo ?? ''}`;

export async function watchSlos(opts: WatchOptions): Promise<WatchResult> {
  const log = opts.log ?? (() => {});
  const alerts = opts.alerts ?? pageBurnAlerts();
  const blind = (message: string): WatchResult => ({
    outcome: 'blind',
    active: [],
    preexisting: [],
    evaluations: 0,
    message,
  });
  let loaded: string[] | undefined;
  // The port-forward in front of Prometheus may still be coming up: give it a short while.
  const answerBy = Date.now() + (opts.startupTimeoutMs ?? 30_000);
  while (!loaded) {
    try {
      const rules = await api<{ groups: RuleGroup[] }>(opts.prometheus, '/api/v1/rules?type=alert');
      loaded = rules.groups.flatMap((g) => g.rules.map((r) => (r as { name?: string }).name ?? ''));
    } catch (err) {
      if (Date.now() >= answerBy)
        return blind(`Prometheus at ${opts.prometheus} did not answer: ${(err as Error).message}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  const missing = alerts.filter((a) => !loaded.includes(a));
  if (missing.length)
    return blind(`Prometheus does not evaluate the SLO alerts ${missing.join(', ')}`);

  const selector = `ALERTS{alertname=~"${alerts.join('|')}",severity="critical"}`;
  const query = async () =>
    (
      await api<{ result: Sample[] }>(
        opts.prometheus,
        `/api/v1/query?query=${encodeURIComponent(selector)}`,
      )
    ).result.map((s) => s.metric);
  let failures = 0;
  let preexisting: Set<string> | undefined;
  let evaluations = 0;
  const deadline = Date.now() + opts.durationMs;
  for (;;) {
    try {
      const active = await query();
      failures = 0;
      evaluations++;
      if (!preexisting) {
        preexisting = new Set(active.map(identity));
        if (preexisting.size) log(`already active before the watch: ${active.map(key).join(', ')}`);
      }
      const fresh = active.filter((m) => !preexisting!.has(identity(m)));
      if (fresh.length)
        return {
          outcome: 'burn',
          active: fresh.map(key),
          preexisting: [...preexisting],
          evaluations,
          message: `SLO burn during the watch: ${fresh.map(key).join(', ')}`,
        };
    } catch (err) {
      // One lost query is noise; a watch that keeps failing sees nothing and passes nothing.
      if (++failures >= 3)
        return blind(`Prometheus queries keep failing: ${(err as Error).message}`);
    }
    if (Date.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, Math.min(opts.intervalMs, deadline - Date.now())));
  }
  return {
    outcome: 'pass',
    active: [],
    preexisting: [...(preexisting ?? [])],
    evaluations,
    message: `no SLO burn alert became active in ${Math.round(opts.durationMs / 1000)}s (${evaluations} checks)`,
  };
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const flag = (name: string, fallback?: string) => {
    const i = args.indexOf(`--${name}`);
    const value = i >= 0 ? args[i + 1] : fallback;
    if (value === undefined) throw new Error(`--${name} is required`);
    return value;
  };
  watchSlos({
    prometheus: flag('prometheus'),
    durationMs: parseDuration(flag('duration')),
    intervalMs: parseDuration(flag('interval', '30s')),
    log: (line) => console.error(line),
  }).then(
    (r) => {
      console.log(r.message);
      process.exit({ pass: 0, burn: 1, blind: 2 }[r.outcome]);
    },
    (err) => {
      console.error(err);
      process.exit(2);
    },
  );
}
