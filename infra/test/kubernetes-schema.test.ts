import assert from 'node:assert/strict';
import { crdProblems } from './support/crd-schema';
import { runStack, stacks, type CapturedResource } from './support/stack-under-mocks';

// Every Kubernetes object the program declares validates against the API schema of the targeted
// version (kubernetes-models 4.5 = Kubernetes 1.33; the EKS stacks run 1.35, whose stable APIs the program uses are unchanged), custom
// resources against the prometheus-operator, CloudNativePG and Karpenter CRD schemas, and Argo
// Rollouts' and KEDA's against their CRDs at the pinned releases (fixtures/crds). Helm releases are installed by Helm
// in-cluster (helm.v3.Release), so the program renders no chart objects itself.

type Model = new (data: unknown) => { validate(): void };

async function modelFor(apiVersion: string, kind: string): Promise<Model | undefined> {
  const crdModels: Record<string, string> = {
    'monitoring.coreos.com': '@kubernetes-models/prometheus-operator',
    'postgresql.cnpg.io': '@kubernetes-models/cloudnative-pg',
    'karpenter.sh': '@kubernetes-models/karpenter',
    'karpenter.k8s.aws': '@kubernetes-models/karpenter',
  };
  const modulePath = `${crdModels[apiVersion.split('/')[0]] ?? 'kubernetes-models'}/${apiVersion}/${kind}`;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return (require(modulePath) as Record<string, Model>)[kind];
  } catch {
    // ESM-only model packages (@kubernetes-models/karpenter) export no require entry point.
  }
  try {
    return ((await import(modulePath)) as Record<string, Model>)[kind];
  } catch {
    return undefined;
  }
}

function kubernetesObject(r: CapturedResource): { apiVersion: string; kind: string } | undefined {
  const match = /^kubernetes:([^:]+):(\w+)$/.exec(r.type);
  if (!match || match[1] === 'helm.sh/v3' || r.type.startsWith('kubernetes:index'))
    return undefined;
  const apiVersion = match[1].startsWith('core/') ? match[1].slice('core/'.length) : match[1];
  return { apiVersion, kind: match[2] };
}

describe('infra Kubernetes objects', function () {
  this.timeout(60_000);
  for (const stack of stacks) {
    it(`${stack}: every object validates against the Kubernetes API schema`, async () => {
      const run = await runStack(stack);
      const failures: string[] = [];
      let validated = 0;
      for (const r of run.resources) {
        const object = kubernetesObject(r);
        if (!object) continue;
        const id = `${object.apiVersion}/${object.kind}`;
        const fromCrd = crdProblems({ ...r.inputs, ...object });
        if (fromCrd) {
          failures.push(...fromCrd.map((p) => `${r.name} (${id}): ${p}`));
          validated++;
          continue;
        }
        const Model = await modelFor(object.apiVersion, object.kind);
        if (!Model) {
          failures.push(`${r.name}: no schema for ${id}`);
          continue;
        }
        try {
          new Model({ ...r.inputs, apiVersion: object.apiVersion, kind: object.kind }).validate();
          validated++;
        } catch (err) {
          failures.push(`${r.name} (${id}): ${(err as Error).message}`);
        }
      }
      assert.deepEqual(failures, []);
      assert.ok(validated >= 15, `validated only ${validated} objects`);
    });
  }

  it('rejects an invalid object (the validator is live)', async () => {
    const Deployment = (await modelFor('apps/v1', 'Deployment'))!;
    assert.throws(() =>
      new Deployment({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'x' },
        spec: { replicas: 'two' },
      }).validate(),
    );
    const Cluster = (await modelFor('postgresql.cnpg.io/v1', 'Cluster'))!;
    assert.throws(() =>
      new Cluster({
        apiVersion: 'postgresql.cnpg.io/v1',
        kind: 'Cluster',
        metadata: { name: 'x' },
        spec: { instances: 'two' },
      }).validate(),
    );
    const NodePool = (await modelFor('karpenter.sh/v1', 'NodePool'))!;
    assert.throws(() =>
      new NodePool({
        apiVersion: 'karpenter.sh/v1',
        kind: 'NodePool',
        metadata: { name: 'x' },
        spec: { template: { spec: { requirements: [] } } },
      }).validate(),
    );
  });
});
