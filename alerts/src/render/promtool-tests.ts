import path from 'node:path';
import { stringify } from 'yaml';
import { renderAlertTemplate } from '../promtool/alert-template';
import type { AlertDefinition, AlertScenario } from '../rules/rule-model';
import {
  alertAnnotations,
  alertLabels,
  allAlerts,
  generatedHeader,
  ruleFiles,
  type RuleFile,
} from './rule-files';

// Derives one promtool test file per rule file holding alerts: every alert's "fires and
// resolves" and "stays quiet" scenarios become test groups with exact expected labels and
// annotations (descriptions rendered from the same templates Prometheus expands).

function expectedAlerts(a: AlertDefinition, scenario: AlertScenario) {
  // Alerts sharing a name (page and ticket of one SLO) are checked together by promtool.
  const siblings = allAlerts().filter((o) => o.alert === a.alert);
  return scenario.checks.map((check) => ({
    eval_time: `${check.atMinute}m`,
    alertname: a.alert,
    exp_alerts: check.firing.map((instance) => {
      const severity = instance.labels.severity ?? a.severity;
      const rule = siblings.find((s) => s.severity === severity);
      if (!rule) throw new Error(`${a.alert}: no ${severity} rule`);
      const labels = { ...alertLabels(rule), ...instance.labels };
      const annotations = alertAnnotations(rule);
      return {
        exp_labels: labels,
        exp_annotations: {
          ...annotations,
          description: renderAlertTemplate(annotations.description, labels, instance.value),
        },
      };
    }),
  }));
}

function testGroup(a: AlertDefinition, scenario: AlertScenario) {
  return {
    name: scenario.name,
    interval: '1m',
    input_series: scenario.inputSeries.map((s) => ({ series: s.series, values: s.values })),
    alert_rule_test: expectedAlerts(a, scenario),
  };
}

export interface PromtoolTestFile {
  readonly path: string;
  readonly content: string;
}

function testFileFor(file: RuleFile): PromtoolTestFile | undefined {
  const alerts = file.groups.flatMap((g) =>
    g.rules.filter((r): r is AlertDefinition => 'alert' in r),
  );
  if (!alerts.length) return undefined;
  const base = path.basename(file.path, '.rules.yaml');
  const testPath = `alerts/tests/${base}.test.yaml`;
  const tests = alerts.flatMap((a) => [
    testGroup(a, a.tests.fires),
    ...('noThreshold' in a.tests.quiet ? [] : [testGroup(a, a.tests.quiet)]),
    ...(a.tests.more ?? []).map((scenario) => testGroup(a, scenario)),
  ]);
  const doc = {
    rule_files: [path.relative(path.dirname(testPath), file.path)],
    evaluation_interval: '1m',
    group_eval_order: file.groups.map((g) => g.name),
    tests,
  };
  return { path: testPath, content: generatedHeader + stringify(doc, { lineWidth: 0 }) };
}

export function promtoolTestFiles(): PromtoolTestFile[] {
  return ruleFiles().flatMap((f) => testFileFor(f) ?? []);
}
