import assert from 'node:assert/strict';
import {
  chartDescription,
  kubePrometheusStackControlPlaneRules,
  mergeValues,
  truthy,
  valueAt,
  type Values,
} from '../charts/chart-values';
import { quantity } from './support/quantity';
import { runStack, stacks, type StackRun } from './support/stack-under-mocks';

// kube-prometheus-stack as the pinned chart renders it from the program's values: no monitor or
// alert for a control-plane target the cluster hides, retention bounded by time and size, two
// Prometheus replicas that do not double alerts or flip graphs, Grafana highly available in
// production.

const kpsValues = (run: StackRun): Values => {
  const release = run
    .ofType('kubernetes:helm.sh/v3:Release')
    .find((r) => r.inputs.chart === 'kube-prometheus-stack');
  assert.ok(release, 'no kube-prometheus-stack release');
  const d = chartDescription(release.inputs.chart, release.inputs.version);
  assert.ok(d, `no description of kube-prometheus-stack ${release.inputs.version}`);
  return mergeValues(d.defaults, release.inputs.values);
};

describe('infra monitoring fits the cluster', function () {
  this.timeout(60_000);
  const runs = new Map<string, StackRun>();
  before(async () => {
    for (const name of stacks) runs.set(name, await runStack(name));
  });

  it('would render control-plane monitors and their alerts with the chart defaults', () => {
    const d = chartDescription('kube-prometheus-stack', '77.6.2')!;
    const defaults = mergeValues(d.defaults, {});
    for (const [rule, component] of Object.entries(kubePrometheusStackControlPlaneRules)) {
      assert.equal(valueAt(defaults, `${component}.enabled`), true);
      assert.equal(valueAt(defaults, `defaultRules.rules.${rule}`), true);
    }
  });

  for (const name of stacks) {
    describe(name, () => {
      it('monitors and alerts on no control-plane target the cluster hides', () => {
        const values = kpsValues(runs.get(name)!);
        const rendered = Object.entries(kubePrometheusStackControlPlaneRules).flatMap(
          ([rule, component]) => {
            const found: string[] = [];
            if (truthy(valueAt(values, `${component}.enabled`))) found.push(`${component} monitor`);
            if (
              truthy(valueAt(values, 'defaultRules.create')) &&
              truthy(valueAt(values, `${component}.enabled`)) &&
              truthy(valueAt(values, `defaultRules.rules.${rule}`))
            )
              found.push(`${rule} rules`);
            return found;
          },
        );
        assert.deepEqual([...new Set(rendered)], []);
      });

      it('keeps Prometheus data by time and by a size below its volume', () => {
        const values = kpsValues(runs.get(name)!);
        const spec = valueAt(values, 'prometheus.prometheusSpec') as Values;
        assert.match(String(spec.retention), /^\d+[smhdwy]$/);
        const size = /^(\d+)GiB$/.exec(String(spec.retentionSize));
        assert.ok(size, `retentionSize ${String(spec.retentionSize)} is not a size in GiB`);
        const volume = quantity(
          String(valueAt(spec, 'storageSpec.volumeClaimTemplate.spec.resources.requests.storage')),
        );
        assert.ok(
          Number(size[1]) * 2 ** 30 < volume,
          'retentionSize must leave room on the volume',
        );
      });

      it('de-duplicates Prometheus replicas: alerts through Alertmanager, queries on one', () => {
        const values = kpsValues(runs.get(name)!);
        const replicas = Number(valueAt(values, 'prometheus.prometheusSpec.replicas'));
        // The operator labels each replica and drops that label from alerts only while it is set.
        assert.equal(
          valueAt(values, 'prometheus.prometheusSpec.replicaExternalLabelNameClear'),
          false,
        );
        if (replicas > 1)
          assert.equal(valueAt(values, 'prometheus.service.sessionAffinity'), 'ClientIP');
      });

      it('runs Grafana highly available where the stack requires it', () => {
        const run = runs.get(name)!;
        const values = kpsValues(run);
        const replicas = Number(valueAt(values, 'grafana.replicas'));
        assert.equal(replicas, run.config.observability.grafanaReplicas);
        if (name === 'production') assert.ok(replicas >= 2);
        if (replicas > 1) {
          assert.equal(
            valueAt(values, 'grafana.persistence.enabled'),
            false,
            'RWO volume pins replicas',
          );
          const d = chartDescription('kube-prometheus-stack', '77.6.2')!;
          assert.ok(
            d.disruptionBudgets(values).some((b) => b.at === 'grafana.podDisruptionBudget'),
            'no budget keeps a Grafana replica up through drains',
          );
        }
      });
    });
  }
});
