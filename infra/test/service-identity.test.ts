import assert from 'node:assert/strict';
import { serviceIdentity } from '../../catalog/service-identity';
import { runStack, stacks, type StackRun } from './support/stack-under-mocks';

// The alerts and dashboards select on serviceIdentity (namespace, job, deployment, HPA name) and
// Vault binds its role to its ServiceAccount. These assert that what infra deploys under mocks
// carries exactly those names, so renaming either side alone fails here instead of leaving alerts
// that match nothing.

const named = (run: StackRun, type: string, name: string) => {
  const found = run.ofType(type).filter((r) => r.inputs.metadata?.name === name);
  assert.equal(found.length, 1, `expected one ${type} named ${name}, found ${found.length}`);
  return found[0].inputs;
};
const matches = (selector: Record<string, string>, labels: Record<string, string>) =>
  Object.entries(selector).every(([k, v]) => labels?.[k] === v);

for (const stackName of stacks) {
  describe(`infra names agree with the alerts' service identity (${stackName})`, function () {
    this.timeout(60_000);
    let run: StackRun;
    before(async () => {
      run = await runStack(stackName);
    });

    it('deploys the Deployment, HPA and PDB named serviceIdentity.deployment in its namespace', () => {
      const { namespace, deployment } = serviceIdentity;
      assert.ok(
        run
          .ofType('kubernetes:core/v1:Namespace')
          .some((n) => n.inputs.metadata.name === namespace),
      );
      const d = named(run, 'kubernetes:apps/v1:Deployment', deployment);
      assert.equal(d.metadata.namespace, namespace);
      const hpa = named(run, 'kubernetes:autoscaling/v2:HorizontalPodAutoscaler', deployment);
      assert.equal(hpa.metadata.namespace, namespace);
      // The Rollout carrying the Deployment's name (its pod template) is what the HPA scales.
      assert.equal(hpa.spec.scaleTargetRef.name, deployment);
      const pdb = named(run, 'kubernetes:policy/v1:PodDisruptionBudget', deployment);
      assert.ok(matches(pdb.spec.selector.matchLabels, d.spec.template.metadata.labels));
    });

    it('runs the API pods as ServiceAccount serviceIdentity.serviceAccount in its namespace', () => {
      const { namespace, serviceAccount, deployment } = serviceIdentity;
      const sa = named(run, 'kubernetes:core/v1:ServiceAccount', serviceAccount);
      assert.equal(sa.metadata.namespace, namespace);
      const d = named(run, 'kubernetes:apps/v1:Deployment', deployment);
      assert.equal(d.spec.template.spec.serviceAccountName, serviceAccount);
    });

    it('makes Prometheus scrape the API as job serviceIdentity.job in serviceIdentity.namespace', () => {
      const { namespace, job } = serviceIdentity;
      // prometheus-operator's `job` is the Service name unless the ServiceMonitor sets jobLabel.
      const service = named(run, 'kubernetes:core/v1:Service', job);
      assert.equal(service.metadata.namespace, namespace);
      // Exporters and Vault have ServiceMonitors too; exactly one scrapes the service's namespace.
      const monitors = run
        .ofType('kubernetes:monitoring.coreos.com/v1:ServiceMonitor')
        .filter((m) => m.inputs.spec.namespaceSelector?.matchNames?.includes(namespace));
      assert.equal(monitors.length, 1);
      const sm = monitors[0].inputs;
      assert.equal(sm.spec.jobLabel, undefined, 'jobLabel would rename the job');
      assert.deepEqual(sm.spec.namespaceSelector.matchNames, [namespace]);
      assert.ok(
        matches(sm.spec.selector.matchLabels, service.metadata.labels),
        'selects the Service',
      );
      const selected = run
        .ofType('kubernetes:core/v1:Service')
        .filter((s) => s.inputs.metadata.namespace === namespace)
        .filter((s) => matches(sm.spec.selector.matchLabels, s.inputs.metadata.labels));
      assert.equal(selected.length, 1, 'exactly one scraped Service, so exactly one job');
      const portNames = service.spec.ports.map((p: { name: string }) => p.name);
      for (const e of sm.spec.endpoints) assert.ok(portNames.includes(e.port), e.port);
    });

    it('sends traffic and disruption budgets to API pods only, never to migration pods', () => {
      const d = named(run, 'kubernetes:apps/v1:Deployment', serviceIdentity.deployment);
      const service = named(run, 'kubernetes:core/v1:Service', serviceIdentity.job);
      const migrate = run
        .ofType('kubernetes:batch/v1:Job')
        .find((j) => j.name.endsWith('-migrate'))!.inputs;
      const apiPod = d.spec.template.metadata.labels;
      const migratePod = migrate.spec.template.metadata.labels;
      assert.ok(matches(d.spec.selector.matchLabels, apiPod));
      assert.ok(matches(service.spec.selector, apiPod));
      assert.ok(!matches(service.spec.selector, migratePod), 'Service must not select migrations');
      assert.ok(!matches(d.spec.selector.matchLabels, migratePod), 'Deployment must not own them');
      const egress = run
        .ofType('kubernetes:networking.k8s.io/v1:NetworkPolicy')
        .find((p) => p.inputs.metadata.name === `${serviceIdentity.service}-egress`)!.inputs;
      // Migrations reach Postgres and Vault too.
      assert.ok(matches(egress.spec.podSelector.matchLabels, migratePod));
      assert.ok(matches(egress.spec.podSelector.matchLabels, apiPod));
    });

    it('names the service itself serviceIdentity.service (logs, traces, Vault role)', () => {
      const d = named(run, 'kubernetes:apps/v1:Deployment', serviceIdentity.deployment);
      const c = d.spec.template.spec.containers[0];
      assert.equal(
        c.env.find((e: { name: string }) => e.name === 'SERVICE_NAME')?.value,
        serviceIdentity.service,
      );
      assert.equal(
        d.spec.template.metadata.annotations['vault.hashicorp.com/role'],
        serviceIdentity.service,
      );
    });

    it('runs exactly the API and the ingestion worker Deployments the identity names', () => {
      const deployments = run
        .ofType('kubernetes:apps/v1:Deployment')
        .filter((d) => d.inputs.metadata.namespace === serviceIdentity.namespace)
        .map((d) => d.inputs.metadata.name);
      assert.deepEqual(deployments.sort(), [
        serviceIdentity.deployment,
        serviceIdentity.ingestWorker,
      ]);
    });

    it('runs the API as the Rollout named serviceIdentity.deployment, which its HPA scales', () => {
      const rollout = named(
        run,
        'kubernetes:argoproj.io/v1alpha1:Rollout',
        serviceIdentity.deployment,
      );
      assert.equal(rollout.metadata.namespace, serviceIdentity.namespace);
      const hpa = named(
        run,
        'kubernetes:autoscaling/v2:HorizontalPodAutoscaler',
        serviceIdentity.deployment,
      );
      assert.deepEqual(hpa.spec.scaleTargetRef, {
        apiVersion: 'argoproj.io/v1alpha1',
        kind: 'Rollout',
        name: serviceIdentity.deployment,
      });
    });
  });
}

describe('shipped rules and dashboards select only what infra deploys', function () {
  this.timeout(60_000);
  it('every namespace/deployment/HPA/job/service matcher names a declared object', async () => {
    const run = await runStack('production');
    const declared = (type: string) =>
      new Set(run.ofType(type).map((r) => String(r.inputs.metadata?.name)));
    const names: Record<string, Set<string>> = {
      namespace: new Set([
        ...declared('kubernetes:core/v1:Namespace'),
        ...run
          .ofType('kubernetes:helm.sh/v3:Release')
          .map((r) => String(r.inputs.namespace))
          .filter((n) => n !== 'undefined'),
      ]),
      deployment: declared('kubernetes:apps/v1:Deployment'),
      horizontalpodautoscaler: declared('kubernetes:autoscaling/v2:HorizontalPodAutoscaler'),
      // The operator's job and service labels are both the scraped Service's name, unless a
      // ServiceMonitor relabels `job` or a Probe names its job.
      job: new Set([...declared('kubernetes:core/v1:Service'), ...declaredJobs(run)]),
      service: declared('kubernetes:core/v1:Service'),
    };
    const exprs = [
      ...run.artifacts.ruleFiles.flatMap((f) =>
        (f.groups as { rules: { expr: string }[] }[]).flatMap((g) => g.rules.map((r) => r.expr)),
      ),
      ...run.artifacts.dashboards.flatMap((d) => collectExprs(JSON.parse(d.json))),
    ];
    let checked = 0;
    for (const expr of exprs) {
      for (const m of expr.matchAll(
        /\b(namespace|deployment|horizontalpodautoscaler|job|service)\s*=\s*"([^"]+)"/g,
      )) {
        checked++;
        assert.ok(
          names[m[1]].has(m[2]),
          `${m[1]}="${m[2]}" in \`${expr}\` matches nothing deployed`,
        );
      }
    }
    assert.ok(checked >= 10, `expected label matchers to check, found ${checked}`);
  });
});

function declaredJobs(run: StackRun): string[] {
  const relabeled = run
    .ofType('kubernetes:monitoring.coreos.com/v1:ServiceMonitor')
    .flatMap((m) => m.inputs.spec.endpoints as { relabelings?: Record<string, string>[] }[])
    .flatMap((e) => e.relabelings ?? [])
    .filter((r) => r.targetLabel === 'job' && !r.sourceLabels)
    .map((r) => r.replacement);
  const probes = run
    .ofType('kubernetes:monitoring.coreos.com/v1:Probe')
    .map((p) => String(p.inputs.spec.jobName));
  return [...relabeled, ...probes];
}

function collectExprs(node: unknown): string[] {
  if (Array.isArray(node)) return node.flatMap(collectExprs);
  if (!node || typeof node !== 'object') return [];
  return Object.entries(node).flatMap(([k, v]) =>
    k === 'expr' && typeof v === 'string' ? [v] : collectExprs(v),
  );
}
