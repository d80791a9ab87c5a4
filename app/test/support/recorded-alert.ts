import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { apiClient } from './http-client';
import { repoRoot } from './service-process';

// Turns what a running service really exposed into a promtool unit test of the real generated
// alert rules: the series promtool replays is the recorded gauge, sample by sample, so a gauge that
// flips while the fault lasts shows up as an alert that never fires.

export const causeRulesFile = path.join(repoRoot, 'alerts/generated/causes.rules.yaml');

/** Reads `rag_dependency_up{dependency}` from /metrics `samples` times, `everyMs` apart. */
export async function recordDependencyGauge(
  serviceUrl: string,
  dependency: string,
  { samples, everyMs }: { samples: number; everyMs: number },
): Promise<number[]> {
  const api = apiClient(serviceUrl);
  const series = `rag_dependency_up{dependency="${dependency}"} `;
  const values: number[] = [];
  for (let i = 0; i < samples; i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, everyMs));
    const line = (await api.get('/metrics')).text.split('\n').find((l) => l.startsWith(series));
    values.push(line ? Number(line.slice(series.length)) : NaN);
  }
  return values;
}

interface AlertRule {
  alert?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

function alertRule(alert: string): AlertRule {
  const file = parse(readFileSync(causeRulesFile, 'utf8')) as { groups: { rules: AlertRule[] }[] };
  const rule = file.groups.flatMap((g) => g.rules).find((r) => r.alert === alert);
  if (!rule) throw new Error(`${alert} is not in ${causeRulesFile}`);
  return rule;
}

export function forMinutes(alert: string): number {
  const f = alertRule(alert).for ?? '0m';
  const m = /^(\d+)([sm])$/.exec(f);
  if (!m) throw new Error(`unsupported for: ${f}`);
  return m[2] === 'm' ? Number(m[1]) : Math.ceil(Number(m[1]) / 60);
}

/**
 * Runs `promtool test rules` on the generated rule file with `values` as the gauge, one sample per
 * minute, and expects `alert` to be firing at the last sample. Returns promtool's verdict.
 */
export function promtoolAlertFiresOn(
  alert: string,
  dependency: string,
  values: readonly number[],
): { fires: boolean; output: string } {
  const rule = alertRule(alert);
  const namespace = 'recorded';
  const render = (template: string) => {
    const out = template.replace(/\{\{\s*\$labels\.namespace\s*\}\}/g, namespace);
    if (out.includes('{{')) throw new Error(`unsupported template in ${alert}: ${template}`);
    return out;
  };
  const test = {
    rule_files: [causeRulesFile],
    evaluation_interval: '1m',
    tests: [
      {
        name: `${alert} from the recorded rag_dependency_up{dependency="${dependency}"}`,
        interval: '1m',
        input_series: [
          {
            series: `rag_dependency_up{namespace="${namespace}", job="rag-api", dependency="${dependency}"}`,
            values: values.map(String).join(' '),
          },
        ],
        alert_rule_test: [
          {
            eval_time: `${values.length - 1}m`,
            alertname: alert,
            exp_alerts: [
              {
                exp_labels: { ...rule.labels, namespace },
                exp_annotations: Object.fromEntries(
                  Object.entries(rule.annotations ?? {}).map(([k, v]) => [k, render(v)]),
                ),
              },
            ],
          },
        ],
      },
    ],
  };
  const dir = mkdtempSync(path.join(tmpdir(), 'recorded-alert-'));
  try {
    const file = path.join(dir, 'recorded.test.yaml');
    writeFileSync(file, stringify(test));
    const r = spawnSync('promtool', ['test', 'rules', file], { encoding: 'utf8' });
    if (r.error) throw r.error;
    return { fires: r.status === 0, output: `${r.stdout}${r.stderr}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
