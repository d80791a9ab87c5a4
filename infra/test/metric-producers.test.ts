import assert from 'node:assert/strict';
import { exporterMetrics, type ExporterSource } from '../../catalog/metrics/exporter-metrics';
import { scrapeJobs } from '../../catalog/metrics/scrape-jobs';
import { exporterImages } from '../components/metrics-exporters';
import {
  runStack,
  stacks,
  type CapturedResource,
  type StackRun,
} from './support/stack-under-mocks';

// Every metric the alerts and dashboards read from an exporter must have a producer deployed in
// every stack, scraped under the job the queries expect. A source added to exporter-metrics.ts
// without an entry here fails to compile; a producer removed from infra fails here.

const release = (run: StackRun, chart: string) =>
  run.ofType('kubernetes:helm.sh/v3:Release').find((r) => r.inputs.chart === chart);

/** `job` values set by ServiceMonitor relabelings and Probe job names. */
function scrapedJobs(run: StackRun): Map<string, CapturedResource[]> {
  const jobs = new Map<string, CapturedResource[]>();
  const add = (job: string, r: CapturedResource) => jobs.set(job, [...(jobs.get(job) ?? []), r]);
  for (const m of run.ofType('kubernetes:monitoring.coreos.com/v1:ServiceMonitor'))
    for (const e of m.inputs.spec.endpoints)
      for (const r of e.relabelings ?? [])
        if (r.targetLabel === 'job' && !r.sourceLabels) add(r.replacement, m);
  for (const p of run.ofType('kubernetes:monitoring.coreos.com/v1:Probe'))
    add(p.inputs.spec.jobName, p);
  return jobs;
}

const deploymentsRunning = (run: StackRun, image: string) =>
  run
    .ofType('kubernetes:apps/v1:Deployment')
    .filter((d) => d.inputs.spec.template.spec.containers.some((c: any) => c.image === image));

const producers: Record<ExporterSource, (run: StackRun) => void> = {
  prometheus: (run) => assert.ok(release(run, 'kube-prometheus-stack')),
  'kube-state-metrics': (run) =>
    assert.notEqual(
      release(run, 'kube-prometheus-stack')?.inputs.values.kubeStateMetrics?.enabled,
      false,
    ),
  cadvisor: (run) =>
    assert.notEqual(release(run, 'kube-prometheus-stack')?.inputs.values.kubelet?.enabled, false),
  qdrant: (run) =>
    assert.equal(release(run, 'qdrant')?.inputs.values.metrics.serviceMonitor.enabled, true),
  vault: (run) => assert.ok(scrapedJobs(run).get(scrapeJobs.vault)?.length),
  postgres_exporter: (run) => {
    assert.ok(scrapedJobs(run).get(scrapeJobs.postgres)?.length);
    assert.ok(deploymentsRunning(run, exporterImages.postgres).length > 0);
  },
  redis_exporter: (run) => {
    assert.ok(scrapedJobs(run).get(scrapeJobs.redis)?.length);
    assert.equal(deploymentsRunning(run, exporterImages.redis).length, 1);
  },
  'argo-rollouts': (run) =>
    assert.equal(
      release(run, 'argo-rollouts')?.inputs.values.controller.metrics.serviceMonitor.enabled,
      true,
    ),
  blackbox_exporter: (run) => {
    assert.equal(scrapedJobs(run).get(scrapeJobs.blackbox)?.length, 1);
    assert.equal(deploymentsRunning(run, exporterImages.blackbox).length, 1);
  },
};

const secretData = (run: StackRun, name: string): Record<string, string> =>
  run.ofType('kubernetes:core/v1:Secret').find((s) => s.inputs.metadata.name === name)!.inputs
    .stringData;

const serviceMonitorOf = (run: StackRun, deployment: CapturedResource) =>
  run
    .ofType('kubernetes:monitoring.coreos.com/v1:ServiceMonitor')
    .find((m) => m.inputs.metadata.name === deployment.inputs.metadata.name)!;
const relabeled = (monitor: CapturedResource, label: string) =>
  monitor.inputs.spec.endpoints[0].relabelings.find(
    (r: { targetLabel: string }) => r.targetLabel === label,
  )?.replacement;

for (const stackName of stacks) {
  describe(`exporter metrics have producers (${stackName})`, function () {
    this.timeout(60_000);
    let run: StackRun;
    before(async () => {
      run = await runStack(stackName);
    });

    for (const source of new Set(Object.values(exporterMetrics).map((m) => m.source))) {
      it(`${source}: deployed and scraped`, () => producers[source](run));
    }

    it('postgres-exporter: one per Postgres server (primary + each replica), its server and instance', () => {
      const exporters = deploymentsRunning(run, exporterImages.postgres);
      const hosts = exporters.map((d) => {
        const env = d.inputs.spec.template.spec.containers[0].env as {
          name: string;
          value?: string;
        }[];
        // DATA_SOURCE_URI is host:port/database?params, no scheme and no credentials.
        const uri = new URL(`postgresql://${env.find((e) => e.name === 'DATA_SOURCE_URI')!.value}`);
        assert.equal(uri.username, '');
        // lib/pq passes unknown parameters to the server, which rejects them.
        assert.deepEqual([...uri.searchParams.keys()], ['sslmode']);
        assert.equal(relabeled(serviceMonitorOf(run, d), 'instance'), uri.hostname);
        assert.equal(relabeled(serviceMonitorOf(run, d), 'job'), scrapeJobs.postgres);
        return uri.hostname;
      });
      if (stackName === 'dev') {
        assert.deepEqual(hosts, [
          'rag-pg-rw.rag.svc.cluster.local',
          'rag-pg-ro.rag.svc.cluster.local',
        ]);
      } else {
        // The RDS instances themselves, not the proxy: pg_up is about the server.
        const rds = run
          .ofType('aws:rds/instance:Instance')
          .map((i) => `${i.name}.rds.mock`)
          .sort();
        const config = run.config;
        assert.ok(config.environment !== 'dev');
        assert.equal(rds.length, 1 + config.postgres.readReplicas);
        assert.deepEqual([...hosts].sort(), rds);
      }
    });

    it('redis-exporter: the service Redis, with its auth (from a file) and scheme (TLS on ElastiCache)', () => {
      const [exporter] = deploymentsRunning(run, exporterImages.redis);
      const container = exporter.inputs.spec.template.spec.containers[0];
      const env = container.env as { name: string; value?: string; valueFrom?: unknown }[];
      // No secret in a variable: redis_exporter reads REDIS_PASSWORD_FILE, a JSON map from the
      // address (as Go's url.String() prints REDIS_ADDR) to the password.
      assert.ok(!env.some((e) => e.valueFrom || e.name === 'REDIS_PASSWORD'));
      const addrValue = env.find((e) => e.name === 'REDIS_ADDR')!.value!;
      const addr = new URL(addrValue);
      assert.equal(addr.username + addr.password, '');
      assert.equal(addrValue, `${addr.protocol}//${addr.host}`);
      assert.equal(`${addr.hostname}`, String(run.outputs.redisEndpoint));
      assert.equal(addr.protocol, stackName === 'dev' ? 'redis:' : 'rediss:');
      const file = env.find((e) => e.name === 'REDIS_PASSWORD_FILE')!.value!;
      const mount = container.volumeMounts.find((m: { mountPath: string }) =>
        file.startsWith(`${m.mountPath}/`),
      );
      assert.ok(mount?.readOnly, 'the password file is mounted read-only');
      const volume = exporter.inputs.spec.template.spec.volumes.find(
        (v: { name: string }) => v.name === mount.name,
      );
      const [item] = volume.secret.items;
      assert.equal(volume.secret.items.length, 1, 'the Redis password only');
      assert.equal(file, `${mount.mountPath}/${item.path}`);
      const passwords = JSON.parse(secretData(run, volume.secret.secretName)[item.key]);
      // The service's own password for that Redis.
      const appRedis = run
        .ofType('vault:kv/secretV2:SecretV2')
        .map((k) => JSON.parse(k.inputs.dataJson).REDIS_URL as string)[0];
      assert.deepEqual(passwords, { [addrValue]: decodeURIComponent(new URL(appRedis).password) });
      assert.ok(passwords[addrValue].length > 0);
      assert.equal(relabeled(serviceMonitorOf(run, exporter), 'instance'), addr.hostname);
    });

    it('blackbox exporter: probes the public HTTPS URL for its certificate', () => {
      const [probe] = run.ofType('kubernetes:monitoring.coreos.com/v1:Probe');
      assert.deepEqual(probe.inputs.spec.targets.staticConfig.static, [
        `${run.outputs.appUrl}/healthz`,
      ]);
      assert.match(String(run.outputs.appUrl), /^https:\/\//);
      const config = JSON.parse(
        run
          .ofType('kubernetes:core/v1:ConfigMap')
          .find((c) => c.inputs.metadata.name === 'blackbox-exporter')!.inputs.data['blackbox.yml'],
      );
      const module = config.modules[probe.inputs.spec.module];
      assert.equal(module.prober, 'http');
      assert.equal(module.http.fail_if_not_ssl, true);
      const [service] = run
        .ofType('kubernetes:core/v1:Service')
        .filter((s) => s.inputs.metadata.name === 'blackbox-exporter');
      assert.equal(
        probe.inputs.spec.prober.url,
        `${service.inputs.metadata.name}.${service.inputs.metadata.namespace}.svc:${service.inputs.spec.ports[0].port}`,
      );
    });
  });
}
