import { grafanaUrlFor, withStackDashboardLinks } from '../observability/dashboard-links';
import assert from 'node:assert/strict';
import { alertmanagerReceiverSecret } from '../../catalog/alerting/receiver-secrets';
import { serviceIdentity } from '../../catalog/service-identity';
import { guardrails } from '../policy/policies';
import { stackOutputNames } from '../stack-outputs';
import { tempoOtlpHttpPort } from '../components/logs-traces';
import { runPolicies } from './support/policy-runner';
import { runStack, stacks, type StackRun } from './support/stack-under-mocks';
import { allContainers, workloadOf } from '../policy/workload-containers';

// Each committed stack file runs through the real program under Pulumi's mocks; these assert the
// environment's invariants on the resources it declares.

const runs = new Map<string, StackRun>();
const stack = (name: string) => {
  const run = runs.get(name);
  if (!run) throw new Error(`stack ${name} did not run`);
  return run;
};
const one = (run: StackRun, type: string) => {
  const found = run.ofType(type);
  assert.equal(found.length, 1, `expected exactly one ${type}, found ${found.length}`);
  return found[0].inputs;
};

describe('infra stacks under mocks', function () {
  this.timeout(60_000);
  before(async () => {
    for (const name of stacks) runs.set(name, await runStack(name));
  });

  for (const name of stacks) {
    describe(name, () => {
      it('exports exactly the stack outputs contract', () => {
        const run = stack(name);
        assert.deepEqual(Object.keys(run.outputs).sort(), [...stackOutputNames].sort());
        assert.deepEqual(run.secretOutputs, ['kubeconfig']);
        assert.match(String(run.outputs.appUrl), /^https:\/\//);
        assert.ok(String(run.outputs.databaseEndpoint).length > 0);
        assert.ok(
          Array.isArray(run.outputs.databaseReplicaEndpoints) &&
            (run.outputs.databaseReplicaEndpoints as string[]).length > 0,
        );
      });

      it('passes every guardrail (production policy config)', () => {
        const config: Record<string, Record<string, unknown>> = name === 'production'
          ? { 'stateful-deletion-protection': { required: true } }
          : {};
        const violations = stack(name).resources.flatMap((r) =>
          runPolicies(guardrails, { type: r.type, name: r.name, props: r.inputs }, config),
        );
        assert.deepEqual(violations, []);
      });

      it('gives every long-running container probes and limits', () => {
        let checked = 0;
        for (const r of stack(name).resources) {
          const w = workloadOf(r.type, r.inputs);
          if (!w) continue;
          for (const c of allContainers(w.podSpec)) {
            checked++;
            assert.ok(
              c.resources?.limits?.cpu && c.resources.limits.memory,
              `${r.name}/${c.name} limits`,
            );
            if (!w.runsToCompletion)
              assert.ok(c.readinessProbe && c.livenessProbe, `${r.name}/${c.name} probes`);
          }
        }
        assert.ok(checked >= 3, `expected at least 3 containers, checked ${checked}`);
      });

      it('runs the service hardened, probed, behind a restricted namespace, migrations first', () => {
        const run = stack(name);
        const ns = run
          .ofType('kubernetes:core/v1:Namespace')
          .find((n) => n.inputs.metadata.name === serviceIdentity.namespace);
        assert.equal(
          ns?.inputs.metadata.labels['pod-security.kubernetes.io/enforce'],
          'restricted',
        );
        const deployment = run
          .ofType('kubernetes:apps/v1:Deployment')
          .find((d) => d.inputs.metadata.name === serviceIdentity.deployment)!.inputs;
        const pod = deployment.spec.template.spec;
        const c = pod.containers[0];
        assert.equal(c.securityContext.readOnlyRootFilesystem, true);
        assert.equal(c.securityContext.allowPrivilegeEscalation, false);
        assert.deepEqual(c.securityContext.capabilities.drop, ['ALL']);
        assert.equal(pod.securityContext.seccompProfile.type, 'RuntimeDefault');
        assert.ok(c.startupProbe && c.readinessProbe && c.livenessProbe);
        assert.equal(c.lifecycle.preStop.sleep.seconds, 10);
        assert.ok(
          pod.topologySpreadConstraints.some(
            (t: { topologyKey: string }) => t.topologyKey === 'topology.kubernetes.io/zone',
          ),
        );
        for (const s of [
          'DATABASE_CREDENTIALS',
          'REDIS_URL',
          'API_KEY_PEPPER',
          'JWT_SIGNING_KEYS',
        ]) {
          assert.ok(
            c.env.some(
              (e: { name: string; value: string }) =>
                e.name === `${s}_FILE` && e.value === `/vault/secrets/${s}`,
            ),
            s,
          );
          assert.ok(
            deployment.spec.template.metadata.annotations[
              `vault.hashicorp.com/agent-inject-secret-${s}`
            ],
          );
        }
        const jobs = run
          .ofType('kubernetes:batch/v1:Job')
          .filter((j) => j.name.includes('migrate'));
        assert.equal(jobs.length, 1);
        assert.ok(
          String(jobs[0].inputs.spec.template.spec.containers[0].command.join(' ')).includes(
            'migrate-cli.js',
          ),
        );
        const hpa = one(run, 'kubernetes:autoscaling/v2:HorizontalPodAutoscaler');
        assert.equal(hpa.spec.minReplicas, run.config.app.minReplicas);
        const policies = run
          .ofType('kubernetes:networking.k8s.io/v1:NetworkPolicy')
          .map((p) => p.inputs);
        assert.ok(
          policies.some(
            (p) =>
              JSON.stringify(p.spec.podSelector) === '{}' && p.spec.policyTypes.includes('Egress'),
          ),
          'default deny',
        );
        const egress = policies.find(
          (p) => p.metadata.name === `${serviceIdentity.service}-egress`,
        )!;
        assert.deepEqual(
          egress.spec.egress
            .flatMap((e: { ports: { port: number }[] }) => e.ports.map((p) => p.port))
            .sort(),
          [53, 53, 5432, 6333, 6379, 8200, tempoOtlpHttpPort].sort(),
        );
        const ingress = run
          .ofType('kubernetes:networking.k8s.io/v1:Ingress')
          .filter((i) => i.inputs.metadata.namespace === serviceIdentity.namespace);
        assert.equal(ingress.length, 1, 'one Ingress for the service');
        assert.deepEqual(ingress[0].inputs.spec.tls[0].hosts, [run.config.app.host]);
      });

      it('ships the generated rules, dashboards and Alertmanager config', () => {
        const run = stack(name);
        const rules = run.ofType('kubernetes:monitoring.coreos.com/v1:PrometheusRule');
        assert.ok(rules.length >= 1);
        const byName = (entries: [string, unknown][]) =>
          Object.fromEntries(entries.sort(([a], [b]) => a.localeCompare(b)));
        assert.deepEqual(
          byName(rules.map((r) => [r.inputs.metadata.name, r.inputs.spec.groups])),
          byName(
            run.artifacts.ruleFiles.map((f) => [
              `rag-${f.name}`,
              withStackDashboardLinks(
                f.groups,
                grafanaUrlFor(run.config.observability.grafanaHost),
              ),
            ]),
          ),
        );
        const dashboards = run
          .ofType('kubernetes:core/v1:ConfigMap')
          .filter((c) => c.inputs.metadata.labels?.grafana_dashboard === '1');
        assert.deepEqual(
          byName(dashboards.map((d) => [d.inputs.metadata.name, Object.values(d.inputs.data)[0]])),
          byName(run.artifacts.dashboards.map((d) => [`dashboard-${d.name}`, d.json])),
        );
        const kps = run
          .ofType('kubernetes:helm.sh/v3:Release')
          .find((r) => r.inputs.chart === 'kube-prometheus-stack')!.inputs;
        assert.deepEqual(kps.values.alertmanager.config, run.artifacts.alertmanagerConfig);
        assert.deepEqual(kps.values.alertmanager.alertmanagerSpec.secrets, [
          alertmanagerReceiverSecret,
        ]);
        const receivers = run
          .ofType('kubernetes:core/v1:Secret')
          .find((s) => s.inputs.metadata.name === alertmanagerReceiverSecret)!.inputs;
        assert.deepEqual(
          Object.keys(receivers.stringData).sort(),
          run.artifacts.receiverSecretFiles,
        );
        assert.equal(
          kps.values.alertmanager.alertmanagerSpec.replicas,
          run.config.observability.alertmanagerReplicas,
        );
        assert.equal(
          kps.values.prometheus.prometheusSpec.retention,
          run.config.observability.prometheusRetention,
        );
        const monitors = run.ofType('kubernetes:monitoring.coreos.com/v1:ServiceMonitor');
        assert.ok(monitors.some((m) => m.name === serviceIdentity.job));
      });
    });
  }

  describe('production', () => {
    it('is multi-AZ with one NAT per AZ, >= 2 encrypted replicas, protected primary', () => {
      const run = stack('production');
      assert.equal(run.ofType('aws:ec2/natGateway:NatGateway').length, 3);
      assert.equal(
        new Set(run.ofType('aws:ec2/subnet:Subnet').map((s) => s.inputs.availabilityZone)).size,
        3,
      );
      const dbs = run.ofType('aws:rds/instance:Instance');
      const primary = dbs.find((d) => !d.inputs.replicateSourceDb)!.inputs;
      const replicas = dbs.filter((d) => d.inputs.replicateSourceDb);
      assert.ok(replicas.length >= 2);
      assert.equal(primary.multiAz, true);
      assert.equal(primary.deletionProtection, true);
      assert.equal(primary.skipFinalSnapshot, false);
      assert.ok(primary.backupRetentionPeriod >= 7);
      assert.equal(primary.storageType, 'gp3');
      assert.ok(primary.maxAllocatedStorage > primary.allocatedStorage);
      assert.equal(primary.performanceInsightsEnabled, true);
      for (const d of dbs) assert.equal(d.inputs.storageEncrypted, true);
      const params = one(run, 'aws:rds/parameterGroup:ParameterGroup').parameters;
      assert.ok(
        params.some(
          (p: { name: string; value: string }) => p.name === 'rds.force_ssl' && p.value === '1',
        ),
      );
      assert.equal(one(run, 'aws:rds/proxy:Proxy').requireTls, true);
      const redis = one(run, 'aws:elasticache/replicationGroup:ReplicationGroup');
      assert.equal(redis.automaticFailoverEnabled, true);
      assert.equal(redis.multiAzEnabled, true);
      assert.equal(redis.transitEncryptionEnabled, true);
      const cluster = one(run, 'aws:eks/cluster:Cluster');
      assert.deepEqual(cluster.encryptionConfig.resources, ['secrets']);
      assert.equal(cluster.enabledClusterLogTypes.length, 5);
      const qdrant = run
        .ofType('kubernetes:helm.sh/v3:Release')
        .find((r) => r.inputs.chart === 'qdrant')!.inputs.values;
      assert.ok(qdrant.replicaCount >= 3);
      assert.ok(qdrant.config.storage.collection.replication_factor >= 2);
      const vault = run
        .ofType('kubernetes:helm.sh/v3:Release')
        .find((r) => r.inputs.chart === 'vault')!.inputs.values;
      assert.ok(vault.server.ha.replicas >= 3);
      assert.match(vault.server.ha.raft.config, /seal "awskms"/);
      assert.match(String(stack('production').outputs.imageDigest), /^sha256:[a-f0-9]{64}$/);
    });
  });

  describe('staging', () => {
    it('shares one NAT and keeps the production shape at smaller sizes', () => {
      const run = stack('staging');
      assert.equal(run.ofType('aws:ec2/natGateway:NatGateway').length, 1);
      assert.equal(
        run.ofType('aws:rds/instance:Instance').filter((d) => d.inputs.replicateSourceDb).length,
        1,
      );
      assert.match(String(run.outputs.imageDigest), /^sha256:/);
    });
  });

  describe('dev', () => {
    it('uses no AWS at all: CloudNativePG with a replica and in-cluster Redis', () => {
      const run = stack('dev');
      assert.deepEqual(
        run.resources.filter((r) => r.type.startsWith('aws:')),
        [],
      );
      assert.ok(one(run, 'kubernetes:postgresql.cnpg.io/v1:Cluster').spec.instances >= 2);
      assert.equal(one(run, 'kubernetes:apps/v1:StatefulSet').metadata.name, 'redis');
    });
  });
});
