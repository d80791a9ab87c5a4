import { readFileSync } from 'node:fs';
import * as path from 'node:path';

/**
 * What the pinned Helm charts read from their values and how they render the objects the API
 * server validates beyond their schemas. The key lists (values-keys/*.json) are derived from each
 * chart at its release tag by derive-values-keys.ts; the defaults and the rendering rules below
 * were read from the same tags' values.yaml and templates (file named in each rule) and are
 * restated here as facts. A chart version bump needs a new description: a release whose chart and
 * version have none fails the chart-values test.
 */

export type Values = Record<string, unknown>;

export interface RenderedBudget {
  /** The values path of the budget's block, for messages. */
  at: string;
  /** Replicas of the workload the budget covers, after defaults. */
  replicas: number;
  minAvailable?: number | string;
  maxUnavailable?: number | string;
}

export interface ChartDescription {
  chart: string;
  version: string;
  derivedFrom: string;
  /** Every key path the chart reads (dotted; list items are not descended into). */
  keys: ReadonlySet<string>;
  /** Paths rendered whole (maps passed through): any key below them is the chart's. */
  open: readonly string[];
  /** Defaults of values.yaml the rendering rules below depend on (dotted path -> value). */
  defaults: Values;
  /** The PodDisruptionBudgets the chart renders from the merged values, as the templates do. */
  disruptionBudgets(values: Values): RenderedBudget[];
}

interface KeysFile {
  chart: string;
  version: string;
  derivedFrom: string;
  keys: string[];
  open: string[];
}

function keysFile(chart: string, version: string): KeysFile {
  return JSON.parse(
    readFileSync(path.join(__dirname, 'values-keys', `${chart}-${version}.json`), 'utf8'),
  ) as KeysFile;
}

/** The value at a dotted path; Helm treats a user-supplied null as "key removed". */
export function valueAt(values: Values, dotted: string): unknown {
  let node: unknown = values;
  for (const part of dotted.split('.')) {
    if (node === null || typeof node !== 'object' || Array.isArray(node)) return undefined;
    node = (node as Values)[part];
  }
  return node ?? undefined;
}

/** Go template truthiness (`if`, `with`): false, 0, "", empty map/list and nil are false. */
export function truthy(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return true;
}

/** Helm's merge of user values over chart defaults (maps merge, everything else replaces). */
export function mergeValues(defaults: Values, overrides: Values): Values {
  const out: Values = structuredClone(defaults);
  for (const [k, v] of Object.entries(overrides)) {
    const base = out[k];
    out[k] =
      v && typeof v === 'object' && !Array.isArray(v) && base && typeof base === 'object'
        ? mergeValues(base as Values, v as Values)
        : v;
  }
  return out;
}

/** Dotted defaults -> nested values. */
function nested(flat: Values): Values {
  const out: Values = {};
  for (const [dotted, value] of Object.entries(flat)) {
    const parts = dotted.split('.');
    let node = out;
    for (const p of parts.slice(0, -1)) node = (node[p] ??= {}) as Values;
    node[parts[parts.length - 1]] = value;
  }
  return out;
}

/** The `if minAvailable` / `if maxUnavailable` pattern: each is written whenever it is truthy. */
function bothWhenTruthy(values: Values, at: string, replicas: number): RenderedBudget {
  const min = valueAt(values, `${at}.minAvailable`);
  const max = valueAt(values, `${at}.maxUnavailable`);
  return {
    at,
    replicas,
    ...(truthy(min) ? { minAvailable: min as number | string } : {}),
    ...(truthy(max) ? { maxUnavailable: max as number | string } : {}),
  };
}

const num = (v: unknown, fallback: number) => (typeof v === 'number' ? v : fallback);

function describe(
  chart: string,
  version: string,
  defaults: Values,
  disruptionBudgets: (values: Values) => RenderedBudget[],
): ChartDescription {
  const file = keysFile(chart, version);
  return {
    chart,
    version,
    derivedFrom: file.derivedFrom,
    keys: new Set(file.keys),
    open: file.open,
    defaults: nested(defaults),
    disruptionBudgets,
  };
}

/**
 * kube-prometheus-stack 77.6.2's default rule groups that need a control-plane target, and the
 * component each is gated on (templates/prometheus/rules-1.14/*.yaml render a group only when
 * defaultRules.create, the component's `enabled` and the group's flag are all set).
 */
export const kubePrometheusStackControlPlaneRules = {
  etcd: 'kubeEtcd',
  kubeSchedulerAlerting: 'kubeScheduler',
  kubeSchedulerRecording: 'kubeScheduler',
  kubeControllerManager: 'kubeControllerManager',
  kubeProxy: 'kubeProxy',
} as const;

export const chartDescriptions: readonly ChartDescription[] = [
  describe(
    'kube-prometheus-stack',
    '77.6.2',
    {
      'alertmanager.enabled': true,
      'alertmanager.podDisruptionBudget.enabled': false,
      'alertmanager.podDisruptionBudget.minAvailable': 1,
      'alertmanager.alertmanagerSpec.replicas': 1,
      'prometheus.enabled': true,
      'prometheus.podDisruptionBudget.enabled': false,
      'prometheus.podDisruptionBudget.minAvailable': 1,
      'prometheus.prometheusSpec.replicas': 1,
      'grafana.enabled': true,
      'grafana.replicas': 1,
      'grafana.podDisruptionBudget': {},
      'defaultRules.create': true,
      ...Object.fromEntries(
        Object.entries(kubePrometheusStackControlPlaneRules).flatMap(([rule, component]) => [
          [`defaultRules.rules.${rule}`, true],
          [`${component}.enabled`, true],
        ]),
      ),
      'prometheus.prometheusSpec.replicaExternalLabelName': '',
      'prometheus.prometheusSpec.replicaExternalLabelNameClear': false,
    },
    (v) => {
      const out: RenderedBudget[] = [];
      // templates/alertmanager/podDisruptionBudget.yaml, templates/prometheus/podDisruptionBudget.yaml
      for (const [c, spec] of [
        ['alertmanager', 'alertmanagerSpec'],
        ['prometheus', 'prometheusSpec'],
      ]) {
        if (
          truthy(valueAt(v, `${c}.enabled`)) &&
          truthy(valueAt(v, `${c}.podDisruptionBudget.enabled`))
        )
          out.push(
            bothWhenTruthy(
              v,
              `${c}.podDisruptionBudget`,
              num(valueAt(v, `${c}.${spec}.replicas`), 1),
            ),
          );
      }
      // grafana 9.4.5 templates/poddisruptionbudget.yaml: rendered when the block is non-empty.
      if (
        truthy(valueAt(v, 'grafana.enabled')) &&
        truthy(valueAt(v, 'grafana.podDisruptionBudget'))
      )
        out.push(
          bothWhenTruthy(v, 'grafana.podDisruptionBudget', num(valueAt(v, 'grafana.replicas'), 1)),
        );
      return out;
    },
  ),
  describe(
    'ingress-nginx',
    '4.13.3',
    {
      'controller.kind': 'Deployment',
      'controller.replicaCount': 1,
      'controller.minAvailable': 1,
      'controller.autoscaling.enabled': false,
    },
    (v) => {
      // templates/controller-poddisruptionbudget.yaml: only above one replica; minAvailable
      // unless maxUnavailable is a key at all, then maxUnavailable.
      if (valueAt(v, 'controller.kind') !== 'Deployment') return [];
      const replicas = truthy(valueAt(v, 'controller.autoscaling.enabled'))
        ? num(valueAt(v, 'controller.autoscaling.minReplicas'), 1)
        : num(valueAt(v, 'controller.replicaCount'), 1);
      if (replicas <= 1) return [];
      const min = valueAt(v, 'controller.minAvailable');
      const max = valueAt(v, 'controller.maxUnavailable');
      const budget: RenderedBudget = { at: 'controller', replicas };
      if (truthy(min) && max === undefined) budget.minAvailable = min as number;
      else if (truthy(max)) budget.maxUnavailable = max as number;
      return [budget];
    },
  ),
  describe(
    'vault',
    '0.31.0',
    {
      'server.enabled': true,
      'server.ha.enabled': false,
      'server.ha.replicas': 3,
      'server.ha.disruptionBudget.enabled': true,
    },
    (v) => {
      // templates/server-disruptionbudget.yaml + _helpers.tpl "vault.pdb.maxUnavailable": in HA
      // mode always maxUnavailable, 0 for a single replica, else the value or (n-1)/2.
      if (!truthy(valueAt(v, 'server.enabled')) || !truthy(valueAt(v, 'server.ha.enabled')))
        return [];
      if (String(valueAt(v, 'server.ha.disruptionBudget.enabled')) !== 'true') return [];
      const replicas = num(valueAt(v, 'server.ha.replicas'), 3);
      const set = valueAt(v, 'server.ha.disruptionBudget.maxUnavailable');
      const maxUnavailable =
        replicas === 1
          ? 0
          : truthy(set)
            ? (set as number)
            : Math.trunc((Math.trunc((replicas * 10) / 2) - 1) / 10);
      return [{ at: 'server.ha.disruptionBudget', replicas, maxUnavailable }];
    },
  ),
  describe(
    'qdrant',
    '1.15.4',
    {
      replicaCount: 1,
      'podDisruptionBudget.enabled': false,
      'podDisruptionBudget.maxUnavailable': 1,
    },
    (v) =>
      // templates/pdb.yaml: `with` on each, so each is written when truthy.
      truthy(valueAt(v, 'podDisruptionBudget.enabled'))
        ? [bothWhenTruthy(v, 'podDisruptionBudget', num(valueAt(v, 'replicaCount'), 1))]
        : [],
  ),
  describe('cloudnative-pg', '0.26.0', {}, () => []),
  describe(
    'cert-manager',
    'v1.19.1',
    Object.fromEntries(
      ['', 'webhook.', 'cainjector.'].flatMap((c) => [
        [`${c}replicaCount`, 1],
        [`${c}podDisruptionBudget.enabled`, false],
      ]),
    ),
    (v) =>
      // templates/{,webhook-,cainjector-}poddisruptionbudget.yaml: when enabled, minAvailable 1
      // unless either bound is a key; each bound written when it is a key (hasKey, not truthy).
      ['', 'webhook.', 'cainjector.'].flatMap((c) => {
        const at = `${c}podDisruptionBudget`;
        if (!truthy(valueAt(v, `${at}.enabled`))) return [];
        const min = valueAt(v, `${at}.minAvailable`);
        const max = valueAt(v, `${at}.maxUnavailable`);
        const budget: RenderedBudget = { at, replicas: num(valueAt(v, `${c}replicaCount`), 1) };
        if (min === undefined && max === undefined) budget.minAvailable = 1;
        if (min !== undefined) budget.minAvailable = min as number | string;
        if (max !== undefined) budget.maxUnavailable = max as number | string;
        return [budget];
      }),
  ),
  describe(
    'aws-load-balancer-controller',
    '3.5.0',
    { replicaCount: 2, podDisruptionBudget: {} },
    (v) =>
      // templates/pdb.yaml: the block rendered as is (toYaml) above one replica.
      truthy(valueAt(v, 'podDisruptionBudget')) && num(valueAt(v, 'replicaCount'), 2) > 1
        ? [bothWhenTruthy(v, 'podDisruptionBudget', num(valueAt(v, 'replicaCount'), 2))]
        : [],
  ),
  describe('metrics-server', '3.13.1', { replicas: 1, 'podDisruptionBudget.enabled': false }, (v) =>
    // templates/pdb.yaml: each bound written when truthy (both default to unset).
    truthy(valueAt(v, 'podDisruptionBudget.enabled'))
      ? [bothWhenTruthy(v, 'podDisruptionBudget', num(valueAt(v, 'replicas'), 1))]
      : [],
  ),
  describe(
    'karpenter',
    '1.14.1',
    { replicas: 2, 'podDisruptionBudget.maxUnavailable': 1 },
    // templates/poddisruptionbudget.yaml: always rendered, maxUnavailable only.
    (v) => [
      {
        at: 'podDisruptionBudget',
        replicas: num(valueAt(v, 'replicas'), 2),
        maxUnavailable: valueAt(v, 'podDisruptionBudget.maxUnavailable') as number,
      },
    ],
  ),
  describe(
    'argo-rollouts',
    '2.41.0',
    { 'controller.replicas': 2, 'controller.pdb.enabled': false },
    (v) => {
      // templates/controller/poddisruptionbudget.yaml: minAvailable when truthy, else
      // maxUnavailable when truthy, else minAvailable 0 (one bound, never both).
      if (!truthy(valueAt(v, 'controller.pdb.enabled'))) return [];
      const replicas = num(valueAt(v, 'controller.replicas'), 2);
      const min = valueAt(v, 'controller.pdb.minAvailable');
      const max = valueAt(v, 'controller.pdb.maxUnavailable');
      if (truthy(min)) return [{ at: 'controller.pdb', replicas, minAvailable: min as number }];
      if (truthy(max)) return [{ at: 'controller.pdb', replicas, maxUnavailable: max as number }];
      return [{ at: 'controller.pdb', replicas, minAvailable: 0 }];
    },
  ),
  describe(
    'keda',
    '2.20.2',
    { 'operator.replicaCount': 1, 'metricsServer.enabled': true, 'metricsServer.replicaCount': 1 },
    (v) => {
      // templates/manager/poddisruptionbudget.yaml (and metrics-server's): rendered when the
      // top-level bounds or the component's block are set; every truthy bound is written.
      const top = bothWhenTruthy(v, 'podDisruptionBudget', 0);
      const out: RenderedBudget[] = [];
      for (const [block, replicasAt, gate] of [
        ['operator', 'operator.replicaCount', true],
        ['metricServer', 'metricsServer.replicaCount', truthy(valueAt(v, 'metricsServer.enabled'))],
      ] as const) {
        const own = valueAt(v, `podDisruptionBudget.${block}`);
        const topSet = top.minAvailable !== undefined || top.maxUnavailable !== undefined;
        if (!gate || (!topSet && !truthy(own))) continue;
        const inner = bothWhenTruthy(v, `podDisruptionBudget.${block}`, 0);
        out.push({
          at: `podDisruptionBudget.${block}`,
          replicas: num(valueAt(v, replicasAt), 1),
          ...(top.minAvailable !== undefined || inner.minAvailable !== undefined
            ? { minAvailable: inner.minAvailable ?? top.minAvailable }
            : {}),
          ...(top.maxUnavailable !== undefined || inner.maxUnavailable !== undefined
            ? { maxUnavailable: inner.maxUnavailable ?? top.maxUnavailable }
            : {}),
        });
      }
      return out;
    },
  ),
  describe(
    'loki',
    '6.55.0',
    { deploymentMode: 'SimpleScalable', 'singleBinary.replicas': 0 },
    (v) =>
      // templates/single-binary/pdb.yaml: the top-level block as is (toYaml), single binary only.
      valueAt(v, 'deploymentMode') === 'SingleBinary' && truthy(valueAt(v, 'podDisruptionBudget'))
        ? [bothWhenTruthy(v, 'podDisruptionBudget', num(valueAt(v, 'singleBinary.replicas'), 0))]
        : [],
  ),
  // tempo 1.24.4 (single binary) renders no PodDisruptionBudget at all.
  describe('tempo', '1.24.4', {}, () => []),
  describe(
    'alloy',
    '1.11.1',
    { 'controller.type': 'daemonset', 'controller.podDisruptionBudget.enabled': false },
    (v) =>
      // templates/pdb.yaml: fails for a DaemonSet; each bound written when truthy.
      truthy(valueAt(v, 'controller.podDisruptionBudget.enabled')) &&
      valueAt(v, 'controller.type') !== 'daemonset'
        ? [
            bothWhenTruthy(
              v,
              'controller.podDisruptionBudget',
              num(valueAt(v, 'controller.replicas'), 1),
            ),
          ]
        : [],
  ),
];

/** `chart` as a release names it: a repository chart name or an OCI reference ending in it. */
export function chartDescription(chart: string, version: string): ChartDescription | undefined {
  const name = chart.split('/').pop();
  return chartDescriptions.find((d) => d.chart === name && d.version === version);
}

/** Every path of `values` the chart does not read. Lists are values, not descended into. */
export function unreadKeys(description: ChartDescription, values: Values): string[] {
  const problems: string[] = [];
  const isOpen = (p: string) => description.open.some((o) => p === o || p.startsWith(`${o}.`));
  const visit = (node: Values, prefix: string) => {
    for (const [k, v] of Object.entries(node)) {
      const p = prefix ? `${prefix}.${k}` : k;
      if (isOpen(p)) continue;
      if (!description.keys.has(p)) {
        problems.push(p);
        continue;
      }
      if (v && typeof v === 'object' && !Array.isArray(v)) visit(v as Values, p);
    }
  };
  visit(values, '');
  return problems;
}
