import { parser } from '@prometheus-io/lezer-promql';
import { parse, stringify } from 'yaml';

// The shipped rules page after `for: 2m` on 1h/5m windows and Alertmanager waits 30s before the
// first notification and 5m before the next: right for production, too slow for a test suite. A
// drill may run everything on a compressed clock instead: the same generated files with every
// duration multiplied by one factor (rule `for:`, every range, subquery and offset in the
// expressions, the routes' group_wait/group_interval/repeat_interval), nothing else changed. A
// test proves that scaling back gives the shipped files exactly. Value thresholds (30s of replica
// lag, 60s of ingestion lag, 14d of certificate) are values, not durations, and stay as shipped.

const units: [string, number][] = [
  ['y', 365 * 86_400_000],
  ['w', 7 * 86_400_000],
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1_000],
  ['ms', 1],
];

export function durationMs(text: string): number {
  const parts = [...text.matchAll(/(\d+)(ms|y|w|d|h|m|s)/g)];
  if (!parts.length || parts.map((p) => p[0]).join('') !== text) {
    throw new Error(`not a Prometheus duration: ${text}`);
  }
  return parts.reduce((ms, [, n, unit]) => ms + Number(n) * units.find(([u]) => u === unit)![1], 0);
}

/** The shortest exact spelling of `ms` milliseconds (`90s`, `1h`, `1500ms`). */
export function formatDuration(ms: number): string {
  if (!Number.isInteger(ms) || ms <= 0) throw new Error(`cannot spell ${ms} ms as a duration`);
  for (const [unit, size] of units) if (ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}

export function scaleDuration(text: string, factor: number): string {
  const ms = durationMs(text);
  if (ms === 0) return text;
  return formatDuration(Math.max(1, Math.round(ms * factor)));
}

/** Every duration literal of a PromQL expression scaled; the rest of the text untouched. */
export function scaleExprDurations(expr: string, factor: number): string {
  const spans: [number, number][] = [];
  const cursor = parser.parse(expr).cursor();
  do {
    if (cursor.name === 'NumberDurationLiteralInDurationContext')
      spans.push([cursor.from, cursor.to]);
  } while (cursor.next());
  let out = '';
  let at = 0;
  for (const [from, to] of spans) {
    out += expr.slice(at, from) + scaleDuration(expr.slice(from, to), factor);
    at = to;
  }
  return out + expr.slice(at);
}

interface RuleFile {
  groups: { name: string; interval?: string; rules: Record<string, unknown>[] }[];
}

/** A generated rule file with every duration scaled (identity at factor 1). */
export function scaledRuleFile(yamlText: string, factor: number): string {
  const file = parse(yamlText) as RuleFile;
  for (const group of file.groups) {
    if (group.interval) group.interval = scaleDuration(group.interval, factor);
    for (const rule of group.rules) {
      rule.expr = scaleExprDurations(String(rule.expr), factor);
      if (typeof rule.for === 'string') rule.for = scaleDuration(rule.for, factor);
    }
  }
  return stringify(file, { lineWidth: 0 });
}

/** Where the drill's Alertmanager sends what the shipped config sends to real services. */
export interface DrillEndpoints {
  /** Directory holding the drill's copies of the receiver secret files (same names). */
  readonly secretsDir: string;
  /** The local webhook receiver's base URL. */
  readonly receiverUrl: string;
  /** An SMTP host:port on loopback. */
  readonly smtpSmarthost: string;
}

type Obj = Record<string, unknown>;
const timingKeys = ['group_wait', 'group_interval', 'repeat_interval'] as const;

function scaleRouteTimings(route: Obj, factor: number): void {
  for (const key of timingKeys) {
    if (typeof route[key] === 'string') route[key] = scaleDuration(route[key] as string, factor);
  }
  for (const child of (route.routes as Obj[] | undefined) ?? []) scaleRouteTimings(child, factor);
}

/**
 * The shipped Alertmanager config with only its endpoints redirected to the drill (secret files,
 * the PagerDuty and webhook URLs, the SMTP host) and, at a factor other than 1, its route timings
 * scaled. Each PagerDuty and webhook URL names its receiver in the path, so a delivery says which
 * receiver sent it; Slack messages name their channel, which names the receiver.
 */
export function drillAlertmanagerConfig(
  shippedYaml: string,
  endpoints: DrillEndpoints,
  factor: number,
): Obj {
  const config = parse(shippedYaml) as Obj;
  const redirectFiles = (o: Obj) => {
    for (const [key, value] of Object.entries(o)) {
      if (key.endsWith('_file') && typeof value === 'string') {
        o[key] = `${endpoints.secretsDir}/${value.split('/').at(-1)}`;
      } else if (value && typeof value === 'object') redirectFiles(value as Obj);
    }
  };
  redirectFiles(config);
  const global = config.global as Obj;
  if (global.smtp_smarthost) global.smtp_smarthost = endpoints.smtpSmarthost;
  for (const receiver of config.receivers as Obj[]) {
    for (const pd of (receiver.pagerduty_configs as Obj[] | undefined) ?? []) {
      pd.url = `${endpoints.receiverUrl}/pagerduty/${receiver.name}`;
    }
    for (const hook of (receiver.webhook_configs as Obj[] | undefined) ?? []) {
      // The dead-man's switch reads its URL from a secret file (url_file); Alertmanager takes
      // one of url and url_file, so the drill's endpoint replaces the file.
      delete hook.url_file;
      hook.url = `${endpoints.receiverUrl}/webhook/${receiver.name}`;
    }
  }
  if (factor !== 1) scaleRouteTimings(config.route as Obj, factor);
  return config;
}
