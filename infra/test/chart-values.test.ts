import assert from 'node:assert/strict';
import {
  chartDescription,
  chartDescriptions,
  mergeValues,
  unreadKeys,
  type RenderedBudget,
  type Values,
} from '../charts/chart-values';
import { runStack, stacks, type StackRun } from './support/stack-under-mocks';

// The values every Helm release receives, checked against what the pinned chart version reads,
// and the objects the API server would reject though every schema accepts them: a budget with
// both minAvailable and maxUnavailable, a budget that blocks every drain, an HPA fighting the
// program over a Deployment's replica count.

const releaseType = 'kubernetes:helm.sh/v3:Release';

const budgetProblems = (b: RenderedBudget): string[] => {
  const problems: string[] = [];
  if (b.minAvailable !== undefined && b.maxUnavailable !== undefined)
    problems.push(`${b.at}: minAvailable and maxUnavailable cannot be both set`);
  // A budget no eviction can satisfy stops `kubectl drain` (node upgrades, Karpenter consolidation).
  if (b.maxUnavailable === 0 || b.maxUnavailable === '0%')
    problems.push(`${b.at}: maxUnavailable 0 blocks every node drain`);
  if (typeof b.minAvailable === 'number' && b.minAvailable >= b.replicas)
    problems.push(
      `${b.at}: minAvailable ${b.minAvailable} of ${b.replicas} blocks every node drain`,
    );
  if (b.minAvailable === '100%')
    problems.push(`${b.at}: minAvailable 100% blocks every node drain`);
  return problems;
};

describe('infra Helm values against the pinned charts', function () {
  this.timeout(60_000);
  const runs = new Map<string, StackRun>();
  before(async () => {
    for (const name of stacks) runs.set(name, await runStack(name));
  });

  it('has a description for every chart it checks, with the keys it was derived with', () => {
    for (const d of chartDescriptions) {
      assert.ok(d.keys.size > 10, `${d.chart}-${d.version} lists only ${d.keys.size} keys`);
      assert.match(d.derivedFrom, /\b(tag|commit) /);
    }
  });

  it('rejects a key the chart does not read (the check is live)', () => {
    const ingress = chartDescription('ingress-nginx', '4.13.3')!;
    assert.deepEqual(
      unreadKeys(ingress, {
        controller: { podDisruptionBudget: { enabled: true }, replicaCount: 2 },
      }),
      ['controller.podDisruptionBudget'],
    );
    const kps = chartDescription('kube-prometheus-stack', '77.6.2')!;
    assert.deepEqual(unreadKeys(kps, { prometheus: { prometheusSpec: { retension: '1d' } } }), [
      'prometheus.prometheusSpec.retension',
    ]);
    // Open paths pass any key through (annotations, resources, the rendered config).
    assert.deepEqual(
      unreadKeys(kps, { alertmanager: { alertmanagerSpec: { resources: { anything: 1 } } } }),
      [],
    );
  });

  it('renders both bounds where the chart default and our value meet (the 77.6.2 defect)', () => {
    const kps = chartDescription('kube-prometheus-stack', '77.6.2')!;
    const merged = mergeValues(kps.defaults, {
      alertmanager: {
        alertmanagerSpec: { replicas: 3 },
        podDisruptionBudget: { enabled: true, maxUnavailable: 1 },
      },
    });
    assert.deepEqual(kps.disruptionBudgets(merged).flatMap(budgetProblems), [
      'alertmanager.podDisruptionBudget: minAvailable and maxUnavailable cannot be both set',
    ]);
    const vault = chartDescription('vault', '0.31.0')!;
    const single = mergeValues(vault.defaults, { server: { ha: { enabled: true, replicas: 1 } } });
    assert.deepEqual(vault.disruptionBudgets(single).flatMap(budgetProblems), [
      'server.ha.disruptionBudget: maxUnavailable 0 blocks every node drain',
    ]);
    const three = mergeValues(vault.defaults, { server: { ha: { enabled: true, replicas: 3 } } });
    assert.deepEqual(vault.disruptionBudgets(three), [
      { at: 'server.ha.disruptionBudget', replicas: 3, maxUnavailable: 1 },
    ]);
  });

  for (const name of stacks) {
    describe(name, () => {
      const releases = () => runs.get(name)!.ofType(releaseType);

      it('gives every release only keys its pinned chart reads', () => {
        assert.ok(releases().length >= 4);
        const problems = releases().flatMap((r) => {
          const d = chartDescription(r.inputs.chart, r.inputs.version);
          if (!d) return [`${r.name}: no description of ${r.inputs.chart} ${r.inputs.version}`];
          return unreadKeys(d, r.inputs.values ?? {}).map(
            (k) => `${r.name}: ${k} is not read by ${d.chart} ${d.version}`,
          );
        });
        assert.deepEqual(problems, []);
      });

      it('renders no budget the API server rejects or a drain cannot pass', () => {
        const problems = releases().flatMap((r) => {
          const d = chartDescription(r.inputs.chart, r.inputs.version)!;
          const merged = mergeValues(d.defaults, (r.inputs.values ?? {}) as Values);
          return d
            .disruptionBudgets(merged)
            .flatMap((b) => budgetProblems(b).map((p) => `${r.name}: ${p}`));
        });
        const run = runs.get(name)!;
        for (const pdb of run.ofType('kubernetes:policy/v1:PodDisruptionBudget')) {
          const { minAvailable, maxUnavailable } = pdb.inputs.spec;
          problems.push(
            ...budgetProblems({ at: pdb.name, replicas: Infinity, minAvailable, maxUnavailable }),
          );
        }
        assert.deepEqual(problems, []);
      });

      it('leaves the replica count of every HPA-scaled workload to the HPA', () => {
        const run = runs.get(name)!;
        const hpas = run.ofType('kubernetes:autoscaling/v2:HorizontalPodAutoscaler');
        assert.ok(hpas.length >= 1);
        const declared = (kind: string, target: { name: string }, namespace: string) =>
          run
            .ofType(
              kind === 'Rollout'
                ? 'kubernetes:argoproj.io/v1alpha1:Rollout'
                : 'kubernetes:apps/v1:Deployment',
            )
            .find(
              (d) =>
                d.inputs.metadata.name === target.name && d.inputs.metadata.namespace === namespace,
            );
        for (const hpa of hpas) {
          const target = hpa.inputs.spec.scaleTargetRef;
          assert.ok(['Deployment', 'Rollout'].includes(target.kind), target.kind);
          const workload = declared(target.kind, target, hpa.inputs.metadata.namespace);
          assert.ok(workload, `${hpa.name} scales a ${target.kind} the program does not declare`);
          assert.equal(
            workload.inputs.spec.replicas,
            undefined,
            `${workload.name} sets replicas: server-side apply fights the HPA ${hpa.name} over it`,
          );
          // A Rollout running a Deployment's template scales that Deployment itself (to zero).
          const ref = workload.inputs.spec.workloadRef;
          if (ref) {
            const deployment = declared(ref.kind, ref, hpa.inputs.metadata.namespace);
            assert.ok(deployment, `${workload.name} references an undeclared ${ref.kind}`);
            assert.equal(deployment.inputs.spec.replicas, undefined, deployment.name);
          }
        }
      });
    });
  }
});
