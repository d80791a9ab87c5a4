import assert from 'node:assert/strict';
import {
  afterProvisioning,
  dataSourceUids,
  logStreamLabels,
  traceIdLogField,
} from '../../catalog/observability/trace-log-links';
import { serviceIdentity } from '../../catalog/service-identity';
import { monitoringNamespace } from '../components/observability';
import {
  runStack,
  stacks,
  type CapturedResource,
  type StackRun,
} from './support/stack-under-mocks';

// Every stack deploys a log store (Loki), a trace store (Tempo) and a collector (Alloy); the
// service exports its traces to Tempo; Grafana gets both as data sources linked by trace id.

const release = 'kubernetes:helm.sh/v3:Release';

interface DataSource {
  name: string;
  type: string;
  uid: string;
  url: string;
  jsonData: Record<string, any>;
}

describe('infra logs and traces', function () {
  this.timeout(120_000);
  const runs = new Map<string, StackRun>();
  before(async () => {
    for (const name of stacks) runs.set(name, await runStack(name));
  });

  for (const stack of stacks) {
    describe(stack, () => {
      const run = () => runs.get(stack)!;
      const aws = stack !== 'dev';
      const releaseNamed = (name: string): CapturedResource => {
        const found = run()
          .ofType(release)
          .filter((r) => r.inputs.name === name);
        assert.equal(found.length, 1, `one ${name} release`);
        assert.equal(found[0].inputs.namespace, monitoringNamespace);
        return found[0];
      };
      const dataSources = (): DataSource[] => {
        const cm = run()
          .ofType('kubernetes:core/v1:ConfigMap')
          .filter((c) => c.inputs.metadata.labels?.grafana_datasource === '1');
        assert.equal(cm.length, 1);
        assert.equal(cm[0].inputs.metadata.namespace, monitoringNamespace);
        const [file] = Object.values(cm[0].inputs.data) as string[];
        return JSON.parse(file).datasources;
      };
      /** The object store a release's IRSA role may use, and that role's ServiceAccount. */
      const storeAccess = (store: string, values: Record<string, any>) => {
        const roleArn = values.serviceAccount.annotations['eks.amazonaws.com/role-arn'];
        const role = run()
          .ofType('aws:iam/role:Role')
          .find((r) => String(roleArn).endsWith(`:${r.name}`))!;
        assert.ok(role, `${store}: an IRSA role`);
        assert.ok(
          role.inputs.assumeRolePolicy.includes(
            `system:serviceaccount:${monitoringNamespace}:${store}`,
          ),
          `${store}: the role trusts the chart's ServiceAccount`,
        );
        const policy = run()
          .ofType('aws:iam/rolePolicy:RolePolicy')
          .find((p) => p.name === role.name)!.inputs.policy;
        return JSON.parse(policy);
      };

      it('pins the charts the stack config names', () => {
        const t = run().config.telemetry;
        assert.equal(releaseNamed('loki').inputs.version, t.lokiChartVersion);
        assert.equal(releaseNamed('tempo').inputs.version, t.tempoChartVersion);
        assert.equal(releaseNamed('alloy').inputs.version, t.alloyChartVersion);
      });

      it(`keeps logs and traces ${aws ? 'in S3 through IRSA' : 'on volumes'}, for their retention`, () => {
        const t = run().config.telemetry;
        const loki = releaseNamed('loki').inputs.values;
        const tempo = releaseNamed('tempo').inputs.values;
        assert.equal(loki.loki.limits_config.retention_period, `${t.logRetentionDays * 24}h`);
        assert.equal(loki.loki.compactor.retention_enabled, true);
        assert.equal(tempo.tempo.retention, `${t.traceRetentionDays * 24}h`);
        if (!aws) {
          assert.equal(loki.loki.storage.type, 'filesystem');
          assert.equal(tempo.tempo.storage.trace.backend, 'local');
          return;
        }
        assert.equal(loki.loki.storage.type, 's3');
        assert.equal(loki.loki.schemaConfig.configs[0].object_store, 's3');
        assert.equal(tempo.tempo.storage.trace.backend, 's3');
        for (const [store, bucket, values] of [
          ['loki', loki.loki.storage.bucketNames.chunks, loki],
          ['tempo', tempo.tempo.storage.trace.s3.bucket, tempo],
        ] as const) {
          assert.match(String(bucket), /-bucket$/, `${store} names its bucket`);
          const bucketResource = run()
            .ofType('aws:s3/bucket:Bucket')
            .find((b) => `${b.name}-bucket` === bucket)!;
          const statements = storeAccess(store, values).Statement;
          assert.ok(
            statements.some(
              (s: { Action: string[]; Resource: string }) =>
                s.Action.includes('s3:PutObject') &&
                s.Resource === `arn:aws:mock:eu-west-1:111111111111:${bucketResource.name}/*`,
            ),
            `${store} writes its own bucket`,
          );
        }
      });

      it('points the service’s OTLP exporter at Tempo’s receiver and lets it through', () => {
        const tempo = releaseNamed('tempo').inputs.values;
        const port = Number(tempo.tempo.receivers.otlp.protocols.http.endpoint.split(':').pop());
        const deployment = run()
          .ofType('kubernetes:apps/v1:Deployment')
          .find((d) => d.inputs.metadata.name === serviceIdentity.deployment)!;
        const env = deployment.inputs.spec.template.spec.containers[0].env;
        const endpoint = env.find(
          (e: { name: string }) => e.name === 'OTEL_EXPORTER_OTLP_ENDPOINT',
        )?.value;
        // The tempo chart names its Service after the release.
        assert.equal(endpoint, `http://tempo.${monitoringNamespace}.svc.cluster.local:${port}`);
        const egress = run()
          .ofType('kubernetes:networking.k8s.io/v1:NetworkPolicy')
          .find((p) => p.inputs.metadata.name === `${serviceIdentity.service}-egress`)!;
        assert.ok(
          egress.inputs.spec.egress.some(
            (e: { to: any[]; ports: { port: number }[] }) =>
              e.ports.some((p) => p.port === port) &&
              e.to.some(
                (peer) =>
                  peer.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'] ===
                  monitoringNamespace,
              ),
          ),
        );
      });

      it('collects every pod’s lines with the labels and trace id the links use', () => {
        const alloy = releaseNamed('alloy').inputs.values;
        assert.equal(alloy.controller.type, 'daemonset');
        assert.equal(alloy.alloy.mounts.varlog, true);
        const config: string = alloy.alloy.configMap.content;
        for (const label of logStreamLabels)
          assert.match(config, new RegExp(`target_label\\s+=\\s+"${label}"`));
        assert.match(config, new RegExp(`trace_id = "${traceIdLogField}"`));
        assert.ok(
          config.includes(
            `url = "http://loki.${monitoringNamespace}.svc.cluster.local:3100/loki/api/v1/push"`,
          ),
        );
      });

      it('gives Grafana both stores, linked both ways by trace id', () => {
        const [loki, tempo] = ['loki', 'tempo'].map((t) =>
          dataSources().find((d) => d.type === t)!,
        );
        assert.equal(loki.uid, dataSourceUids.loki);
        assert.equal(tempo.uid, dataSourceUids.tempo);
        assert.equal(loki.url, `http://loki.${monitoringNamespace}.svc.cluster.local:3100`);
        assert.equal(tempo.url, `http://tempo.${monitoringNamespace}.svc.cluster.local:3200`);
        const [derived] = loki.jsonData.derivedFields;
        assert.equal(derived.datasourceUid, tempo.uid);
        const toLogs = tempo.jsonData.tracesToLogsV2;
        assert.equal(toLogs.datasourceUid, loki.uid);
        assert.equal(toLogs.customQuery, true);
        // What Grafana reads once it has expanded the provisioning file's variables.
        assert.equal(afterProvisioning(derived.url), '${__value.raw}');
        assert.equal(
          afterProvisioning(toLogs.query),
          `{namespace="${serviceIdentity.namespace}"} |= "\${__trace.traceId}" | json | ${traceIdLogField}="\${__trace.traceId}"`,
        );
      });
    });
  }

  it('escapes what Grafana would otherwise expand (the check is live)', () => {
    assert.equal(afterProvisioning('${__trace.traceId}'), '');
    assert.equal(afterProvisioning('$${__trace.traceId}'), '${__trace.traceId}');
  });
});
