import assert from 'node:assert/strict';
import * as pulumi from '@pulumi/pulumi';
import { afterMonitoringCrds } from '../observability/monitoring-crds';
import {
  resourceKey,
  runStack,
  stacks,
  type CapturedResource,
  type StackRun,
} from './support/stack-under-mocks';

// A first `pulumi up` into an empty cluster must not create anything of a monitoring.coreos.com
// kind before kube-prometheus-stack has installed the CRDs. The dependencies asserted here are the
// ones the SDK sends the engine (captured from the mock resource monitor), not a convention.

const monitoringGroup = 'kubernetes:monitoring.coreos.com/';
/** Value keys with which charts and operators switch on objects of the monitoring.coreos.com kinds. */
const monitorSwitches = /^(servicemonitor|podmonitor|prometheusrule|probe|enablepodmonitor)$/i;

/** Paths in `value` where a monitor switch is on (`serviceMonitor: {enabled: true}` or `enablePodMonitor: true`). */
function enabledMonitorSwitches(value: unknown, path = ''): string[] {
  if (Array.isArray(value))
    return value.flatMap((v, i) => enabledMonitorSwitches(v, `${path}[${i}]`));
  if (!value || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, v]) => {
    const here = path ? `${path}.${key}` : key;
    if (monitorSwitches.test(key)) {
      const on =
        v === true || (typeof v === 'object' && v !== null && 'enabled' in v && v.enabled === true);
      if (on) return [here];
    }
    return enabledMonitorSwitches(v, here);
  });
}

function needsMonitoringCrds(r: CapturedResource): string | undefined {
  if (r.type.startsWith(monitoringGroup)) return r.type;
  const switches = enabledMonitorSwitches(r.inputs);
  return switches.length > 0 ? `enables ${switches.join(', ')}` : undefined;
}

describe('afterMonitoringCrds', () => {
  const crds = { crdsInstalled: new pulumi.ComponentResource('test:crds:Crds', 'crds') };
  const other = new pulumi.ComponentResource('test:other:Other', 'other');

  it('adds the CRD release to no dependsOn, one resource or a list, keeping the other options', () => {
    assert.deepEqual(afterMonitoringCrds(crds, { protect: true }), {
      protect: true,
      dependsOn: [crds.crdsInstalled],
    });
    assert.deepEqual(afterMonitoringCrds(crds, { dependsOn: other }).dependsOn, [
      other,
      crds.crdsInstalled,
    ]);
    assert.deepEqual(afterMonitoringCrds(crds, { dependsOn: [other] }).dependsOn, [
      other,
      crds.crdsInstalled,
    ]);
  });
});

describe('enabledMonitorSwitches', () => {
  it('finds chart and operator switches that are on, and only those', () => {
    assert.deepEqual(
      enabledMonitorSwitches({
        metrics: { serviceMonitor: { enabled: true } },
        spec: { monitoring: { enablePodMonitor: true } },
        off: { serviceMonitor: { enabled: false }, podMonitor: { enabled: false } },
        // kube-prometheus-stack's selector settings are not switches.
        prometheusSpec: { serviceMonitorSelectorNilUsesHelmValues: false },
        list: [{ prometheusRule: { enabled: true } }],
      }),
      ['metrics.serviceMonitor', 'spec.monitoring.enablePodMonitor', 'list[0].prometheusRule'],
    );
  });
});

for (const stackName of stacks) {
  describe(`install ordering after the monitoring CRDs (${stackName})`, function () {
    this.timeout(60_000);
    let run: StackRun;
    let crdRelease: CapturedResource;
    before(async () => {
      run = await runStack(stackName);
      const charts = run
        .ofType('kubernetes:helm.sh/v3:Release')
        .filter((r) => r.inputs.chart === 'kube-prometheus-stack');
      assert.equal(charts.length, 1);
      crdRelease = charts[0];
    });

    it("captures dependencies at all (Vault's configuration waits for the Vault release)", () => {
      const audit = run.ofType('vault:index/audit:Audit');
      assert.equal(audit.length, 2);
      for (const a of audit)
        assert.ok(a.dependencies.includes('kubernetes:helm.sh/v3:Release::vault'), a.name);
    });

    it('orders every monitoring.coreos.com object and every release enabling one after kube-prometheus-stack', () => {
      const users = run.resources
        .filter((r) => r !== crdRelease)
        .map((r) => ({ r, why: needsMonitoringCrds(r) }))
        .filter((u): u is { r: CapturedResource; why: string } => u.why !== undefined);
      // Qdrant's chart enables its ServiceMonitor in every stack; the rules are PrometheusRules.
      assert.ok(users.some((u) => u.r.inputs.chart === 'qdrant'));
      assert.ok(users.some((u) => u.r.type.endsWith(':PrometheusRule')));
      const unordered = users
        .filter((u) => !u.r.dependencies.includes(resourceKey(crdRelease)))
        .map((u) => `${resourceKey(u.r)} (${u.why})`);
      assert.deepEqual(unordered, []);
    });
  });
}
