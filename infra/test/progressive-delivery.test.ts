import assert from 'node:assert/strict';
import { metrics } from '../../catalog/metrics/metric-catalog';
import { analyzeQuery } from '../../catalog/promql/query-analysis';
import { serviceIdentity } from '../../catalog/service-identity';
import { crdProblems } from './support/crd-schema';
import {
  resourceKey,
  runStack,
  stacks,
  type CapturedResource,
  type StackRun,
} from './support/stack-under-mocks';

// The API rolls out as an Argo Rollouts canary judged by the generated SLO analysis, after the
// migrations, and `pulumi up` waits for its verdict; ingestion runs in worker pods KEDA sizes on
// the queue depth. Checked per stack on the objects the program declares.

const rolloutType = 'kubernetes:argoproj.io/v1alpha1:Rollout';
const analysisType = 'kubernetes:argoproj.io/v1alpha1:AnalysisTemplate';
const scaledObjectType = 'kubernetes:keda.sh/v1alpha1:ScaledObject';
const deploymentType = 'kubernetes:apps/v1:Deployment';
const releaseType = 'kubernetes:helm.sh/v3:Release';

const one = (run: StackRun, type: string, name?: string): CapturedResource => {
  const found = run
    .ofType(type)
    .filter((r) => name === undefined || r.inputs.metadata?.name === name);
  assert.equal(found.length, 1, `expected one ${type} ${name ?? ''}, found ${found.length}`);
  return found[0];
};
const release = (run: StackRun, chart: string) => {
  const found = run.ofType(releaseType).filter((r) => r.inputs.chart === chart);
  assert.equal(found.length, 1, `one ${chart} release`);
  return found[0];
};
const envOf = (d: CapturedResource) =>
  Object.fromEntries(
    (d.inputs.spec.template.spec.containers[0].env as { name: string; value: string }[]).map(
      (e) => [e.name, e.value],
    ),
  );
const matches = (selector: Record<string, string>, labels: Record<string, string>) =>
  Object.entries(selector).every(([k, v]) => labels?.[k] === v);

describe('infra progressive delivery and ingestion scaling', function () {
  this.timeout(120_000);

  it('the CRD schemas reject a misspelled field and a wrong type (the validator is live)', async () => {
    const run = await runStack('staging');
    const rollout = one(run, rolloutType).inputs;
    assert.deepEqual(crdProblems(rollout), []);
    const typo = structuredClone(rollout);
    typo.spec.strategy.canary.stepz = typo.spec.strategy.canary.steps;
    assert.match(String(crdProblems(typo)), /must NOT have additional properties: stepz/);
    const wrongType = structuredClone(rollout);
    wrongType.spec.progressDeadlineSeconds = 'ten minutes';
    assert.match(String(crdProblems(wrongType)), /progressDeadlineSeconds must be integer/);
    const scaled = structuredClone(one(run, scaledObjectType).inputs);
    scaled.spec.maxReplicaCount = '20';
    assert.match(String(crdProblems(scaled)), /maxReplicaCount must be integer/);
  });

  for (const stack of stacks) {
    describe(stack, () => {
      let run: StackRun;
      before(async () => {
        run = await runStack(stack);
      });

      it('installs Argo Rollouts and KEDA with their CRDs, at the pinned chart versions', () => {
        const argo = release(run, 'argo-rollouts');
        assert.equal(argo.inputs.version, run.config.rollouts.chartVersion);
        assert.equal(argo.inputs.values.installCRDs, true);
        assert.equal(argo.inputs.values.keepCRDs, true);
        const keda = release(run, 'keda');
        assert.equal(keda.inputs.version, run.config.keda.chartVersion);
        assert.equal(keda.inputs.values.crds.install, true);
        // Their objects are created after the CRDs exist.
        const rollout = one(run, rolloutType);
        assert.ok(rollout.dependencies.includes(resourceKey(argo)));
        assert.ok(one(run, analysisType).dependencies.includes(resourceKey(argo)));
        assert.ok(one(run, scaledObjectType).dependencies.includes(resourceKey(keda)));
      });

      it('rolls the API out as a canary of the Deployment’s pod template, after the migrations', () => {
        const rollout = one(run, rolloutType, serviceIdentity.deployment);
        const deployment = one(run, deploymentType, serviceIdentity.deployment);
        const { spec } = rollout.inputs;
        assert.deepEqual(spec.workloadRef, {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          name: serviceIdentity.deployment,
          scaleDown: 'progressively',
        });
        assert.ok(
          matches(spec.selector.matchLabels, deployment.inputs.spec.template.metadata.labels),
        );
        assert.equal(envOf(deployment).PROCESS_ROLE, 'api');
        const steps = spec.strategy.canary.steps as Record<string, unknown>[];
        assert.deepEqual(
          steps.filter((s) => 'setWeight' in s).map((s) => s.setWeight),
          [20, 50],
        );
        assert.equal(spec.progressDeadlineAbort, true);
        const migrate = run
          .ofType('kubernetes:batch/v1:Job')
          .find((j) => j.name.endsWith('-migrate'))!;
        assert.ok(rollout.dependencies.includes(resourceKey(migrate)), 'migrations run first');
        assert.ok(deployment.dependencies.includes(resourceKey(migrate)));
      });

      it('judges the canary with the generated SLO analysis against the in-cluster Prometheus', () => {
        const rollout = one(run, rolloutType);
        const template = one(run, analysisType);
        assert.deepEqual(rollout.inputs.spec.strategy.canary.analysis.templates, [
          { templateName: template.inputs.metadata.name },
        ]);
        assert.equal(template.inputs.metadata.namespace, serviceIdentity.namespace);
        const shipped = template.inputs.spec.metrics as {
          name: string;
          successCondition: string;
          provider: { prometheus: { address: string; query: string } };
        }[];
        assert.deepEqual(
          shipped.map(({ provider, ...m }) => ({ ...m, query: provider.prometheus.query })),
          run.artifacts.canaryAnalysis.metrics.map(({ provider, ...m }) => ({
            ...m,
            query: provider.prometheus.query,
          })),
          'the generated analysis, unchanged',
        );
        const recorded = new Set(
          run.artifacts.ruleFiles.flatMap((f) =>
            (f.groups as { rules: { record?: string }[] }[]).flatMap((g) =>
              g.rules.flatMap((r) => (r.record ? [r.record] : [])),
            ),
          ),
        );
        for (const m of shipped) {
          assert.match(
            m.provider.prometheus.address,
            /^http:\/\/kube-prometheus-stack-prometheus\.monitoring\.svc\.cluster\.local:9090$/,
          );
          const a = analyzeQuery(m.provider.prometheus.query);
          assert.deepEqual(a.syntaxErrors, []);
          for (const ref of a.metrics) assert.ok(recorded.has(ref.name), ref.name);
        }
      });

      it('makes pulumi up wait for the canary’s verdict, long enough for every step', () => {
        const { annotations } = one(run, rolloutType).inputs.metadata;
        assert.equal(annotations['pulumi.com/waitFor'], 'jsonpath={.status.phase}=Healthy');
        const pauses = (
          one(run, rolloutType).inputs.spec.strategy.canary.steps as {
            pause?: { duration: string };
          }[]
        )
          .flatMap((s) => (s.pause ? [Number(/^(\d+)m$/.exec(s.pause.duration)![1])] : []))
          .reduce((a, b) => a + b, 0);
        assert.equal(pauses, 2 * run.config.rollouts.stepPauseMinutes);
        assert.ok(Number(annotations['pulumi.com/timeoutSeconds']) > pauses * 60);
      });

      it('sends traffic and the API budget to API pods only, never to ingestion workers', () => {
        const worker = one(run, deploymentType, serviceIdentity.ingestWorker);
        const workerPod = worker.inputs.spec.template.metadata.labels;
        const service = one(run, 'kubernetes:core/v1:Service', serviceIdentity.job).inputs;
        const pdb = one(
          run,
          'kubernetes:policy/v1:PodDisruptionBudget',
          serviceIdentity.deployment,
        );
        assert.ok(!matches(service.spec.selector, workerPod));
        assert.ok(!matches(pdb.inputs.spec.selector.matchLabels, workerPod));
        assert.ok(!matches(one(run, rolloutType).inputs.spec.selector.matchLabels, workerPod));
        assert.equal(envOf(worker).PROCESS_ROLE, 'worker');
        assert.equal(worker.inputs.spec.replicas, undefined, 'KEDA’s HPA owns the count');
      });

      it('scales the workers with KEDA on the queue depth the API exports (a catalog metric)', () => {
        const scaled = one(run, scaledObjectType, serviceIdentity.ingestWorker).inputs;
        assert.deepEqual(scaled.spec.scaleTargetRef, {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          name: serviceIdentity.ingestWorker,
        });
        const w = run.config.ingestionWorkers;
        assert.equal(scaled.spec.minReplicaCount, w.minReplicas);
        assert.equal(scaled.spec.maxReplicaCount, w.maxReplicas);
        const [trigger] = scaled.spec.triggers;
        assert.equal(trigger.type, 'prometheus');
        assert.equal(trigger.metadata.threshold, String(w.jobsPerReplica));
        const a = analyzeQuery(trigger.metadata.query);
        assert.deepEqual(a.syntaxErrors, []);
        assert.deepEqual([...new Set(a.metrics.map((m) => m.name))], [metrics.queueDepth.name]);
        assert.ok(scaled.spec.fallback.replicas >= 1, 'keeps ingesting when Prometheus is away');
      });
    });
  }

  it('a new image changes the Rollout itself, so pulumi up waits for that canary', async () => {
    const hash = (r: StackRun) =>
      one(r, rolloutType).inputs.metadata.annotations['rag-platform.io/pod-template-sha256'];
    const before = await runStack('dev');
    const after = await runStack('dev', {
      'rag-platform:app': JSON.stringify({ ...before.config.app, image: 'rag-platform:next' }),
    });
    assert.match(hash(before), /^[a-f0-9]{64}$/);
    assert.notEqual(hash(after), hash(before));
  });
});
