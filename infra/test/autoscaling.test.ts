import assert from 'node:assert/strict';
import { quantity } from './support/quantity';
import {
  runStack,
  stacks,
  type CapturedResource,
  type StackRun,
} from './support/stack-under-mocks';

// An HPA scales only if something serves the metrics it reads, and its new replicas run only if
// the nodes can grow to hold them. Both are checked per stack on the objects the program declares.

const hpaType = 'kubernetes:autoscaling/v2:HorizontalPodAutoscaler';
const releaseType = 'kubernetes:helm.sh/v3:Release';
const customResource = (kind: string) => `kubernetes:${kind}`;

const releasesOf = (run: StackRun, chart: RegExp) =>
  run.ofType(releaseType).filter((r) => chart.test(String(r.inputs.chart)));

function scaledDeployment(run: StackRun, hpa: CapturedResource): CapturedResource {
  let ref = hpa.inputs.spec.scaleTargetRef;
  if (ref.kind === 'Rollout') {
    // The Rollout runs the pod template of the Deployment it references (workloadRef).
    const rollout = run
      .ofType('kubernetes:argoproj.io/v1alpha1:Rollout')
      .find(
        (r) =>
          r.inputs.metadata.name === ref.name &&
          r.inputs.metadata.namespace === hpa.inputs.metadata.namespace,
      );
    assert.ok(
      rollout,
      `${hpa.name}: scales Rollout/${ref.name}, which the program does not declare`,
    );
    ref = rollout.inputs.spec.workloadRef;
  }
  const target = run
    .ofType('kubernetes:apps/v1:Deployment')
    .find(
      (d) =>
        d.inputs.metadata.name === ref.name &&
        d.inputs.metadata.namespace === hpa.inputs.metadata.namespace,
    );
  assert.ok(
    target,
    `${hpa.name}: scales ${ref.kind}/${ref.name}, which the program does not declare`,
  );
  return target;
}

/** What one pod of the Deployment asks the scheduler for (its containers' requests). */
function podRequests(deployment: CapturedResource): { cpu: number; memory: number } {
  const containers = deployment.inputs.spec.template.spec.containers as {
    resources?: { requests?: { cpu?: string; memory?: string } };
  }[];
  return containers.reduce(
    (sum, c) => ({
      cpu: sum.cpu + quantity(c.resources?.requests?.cpu ?? 0),
      memory: sum.memory + quantity(c.resources?.requests?.memory ?? 0),
    }),
    { cpu: 0, memory: 0 },
  );
}

describe('infra autoscaling', function () {
  this.timeout(60_000);
  const runs = new Map<string, StackRun>();
  before(async () => {
    for (const name of stacks) runs.set(name, await runStack(name));
  });

  it('reads quantities as the API server does', () => {
    assert.equal(quantity('500m'), 0.5);
    assert.equal(quantity('2'), 2);
    assert.equal(quantity('512Mi'), 512 * 2 ** 20);
    assert.equal(quantity('1G'), 1e9);
    assert.throws(() => quantity('1 GB'));
  });

  for (const name of stacks) {
    describe(name, () => {
      it('serves every metric each HPA reads', () => {
        const run = runs.get(name)!;
        const hpas = run.ofType(hpaType);
        assert.ok(hpas.length >= 1);
        const metricsServer = releasesOf(run, /^metrics-server$/).length > 0;
        const customMetrics = releasesOf(run, /prometheus-adapter|keda/).length > 0;
        for (const hpa of hpas) {
          const deployment = scaledDeployment(run, hpa);
          for (const metric of hpa.inputs.spec.metrics as {
            type: string;
            resource?: { name: 'cpu' | 'memory'; target: { type: string } };
          }[]) {
            if (metric.type === 'Resource' || metric.type === 'ContainerResource') {
              // The dev stack may run on a cluster that brings its own (k3d, minikube addon).
              assert.ok(
                metricsServer ||
                  (run.config.environment === 'dev' && !run.config.metricsServer.install),
                `${hpa.name} reads ${metric.resource?.name} but no metrics-server serves metrics.k8s.io`,
              );
              // Utilization is a share of the request: without one the HPA cannot compute it.
              if (metric.resource?.target.type === 'Utilization')
                assert.ok(
                  podRequests(deployment)[metric.resource.name] > 0,
                  `${deployment.name} requests no ${metric.resource.name}`,
                );
            } else {
              assert.ok(
                customMetrics,
                `${hpa.name} reads ${metric.type} metrics but no adapter serves them`,
              );
            }
          }
        }
      });

      if (name === 'dev') return;

      it('installs Karpenter with its own IRSA role, an interruption queue and a joinable node role', () => {
        const run = runs.get(name)!;
        const [karpenter] = releasesOf(run, /karpenter\/karpenter$/);
        assert.ok(karpenter, 'no Karpenter release');
        assert.equal(karpenter.inputs.namespace, 'kube-system');
        const values = karpenter.inputs.values;
        const roleArn = values.serviceAccount.annotations['eks.amazonaws.com/role-arn'];
        const role = run
          .ofType('aws:iam/role:Role')
          .find((r) => `arn:aws:mock:eu-west-1:111111111111:${r.name}` === roleArn);
        assert.ok(role, 'the controller role is not one the program declares');
        const trust = JSON.parse(role.inputs.assumeRolePolicy);
        assert.deepEqual(
          Object.values(trust.Statement[0].Condition.StringEquals)[0],
          `system:serviceaccount:kube-system:${values.serviceAccount.name}`,
        );
        assert.ok(values.settings.clusterName && values.settings.interruptionQueue);
        const nodeClasses = run.ofType(customResource('karpenter.k8s.aws/v1:EC2NodeClass'));
        assert.equal(nodeClasses.length, 1);
        const nodeRole = run
          .ofType('aws:iam/role:Role')
          .find((r) => r.name === nodeClasses[0].inputs.spec.role);
        assert.ok(nodeRole, 'the EC2NodeClass names a role the program does not declare');
        assert.ok(
          run
            .ofType('aws:eks/accessEntry:AccessEntry')
            .some(
              (e) =>
                e.inputs.type === 'EC2_LINUX' &&
                e.inputs.principalArn.endsWith(`:${nodeRole.name}`),
            ),
          'Karpenter nodes have no access entry: they could not join the cluster',
        );
        assert.equal(nodeClasses[0].inputs.spec.metadataOptions.httpTokens, 'required');
      });

      it("lets the nodes grow to what every HPA's maximum needs", () => {
        const run = runs.get(name)!;
        const pools = run.ofType(customResource('karpenter.sh/v1:NodePool'));
        assert.ok(pools.length >= 1, 'no NodePool: nothing adds nodes for new replicas');
        const nodeClasses = run
          .ofType(customResource('karpenter.k8s.aws/v1:EC2NodeClass'))
          .map((c) => c.inputs.metadata.name);
        const limit = { cpu: 0, memory: 0 };
        for (const pool of pools) {
          assert.ok(nodeClasses.includes(pool.inputs.spec.template.spec.nodeClassRef.name));
          limit.cpu += quantity(pool.inputs.spec.limits.cpu);
          limit.memory += quantity(pool.inputs.spec.limits.memory);
        }
        const need = { cpu: 0, memory: 0 };
        for (const hpa of run.ofType(hpaType)) {
          const pod = podRequests(scaledDeployment(run, hpa));
          need.cpu += pod.cpu * hpa.inputs.spec.maxReplicas;
          need.memory += pod.memory * hpa.inputs.spec.maxReplicas;
        }
        assert.ok(
          need.cpu <= limit.cpu,
          `HPAs at maximum request ${need.cpu} CPUs, the NodePools allow ${limit.cpu}`,
        );
        assert.ok(
          need.memory <= limit.memory,
          `HPAs at maximum request ${need.memory / 2 ** 30}Gi, the NodePools allow ${limit.memory / 2 ** 30}Gi`,
        );
      });
    });
  }
});
