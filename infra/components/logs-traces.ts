import * as aws from '@pulumi/aws';
import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import {
  dataSourceUids,
  provisionedVariable,
  traceIdLogField,
  traceIdMatcherRegex,
  tracesToLogsQuery,
} from '../../catalog/observability/trace-log-links';
import { serviceIdentity } from '../../catalog/service-identity';
import type { StackConfig } from '../config/stack-config';
import type { ClusterHandle } from './cluster';
import { monitoringNamespace } from './observability';
import { PrivateBucket } from './private-bucket';
import { withPinnedImages } from '../charts/chart-images';

export interface LogsAndTracesArgs {
  config: StackConfig['telemetry'];
  cluster: ClusterHandle;
  production: boolean;
  /** The Namespace the Grafana sidecar reads data sources from (kube-prometheus-stack's). */
  namespace: pulumi.Input<string>;
}

export const lokiPort = 3100;
export const tempoPort = 3200;
/** Tempo's OTLP/HTTP receiver: the service's exporter posts to `<endpoint>/v1/traces`. */
export const tempoOtlpHttpPort = 4318;
const lokiUrl = `http://loki.${monitoringNamespace}.svc.cluster.local:${lokiPort}`;
const tempoUrl = `http://tempo.${monitoringNamespace}.svc.cluster.local:${tempoPort}`;
/** OTEL_EXPORTER_OTLP_ENDPOINT of the service in every stack. */
export const otlpEndpoint = `http://tempo.${monitoringNamespace}.svc.cluster.local:${tempoOtlpHttpPort}`;

/** The Grafana data sources, as the sidecar provisions them. */
export function dataSources(): Record<string, unknown> {
  return {
    apiVersion: 1,
    datasources: [
      {
        name: 'Loki',
        type: 'loki',
        uid: dataSourceUids.loki,
        access: 'proxy',
        url: lokiUrl,
        jsonData: {
          maxLines: 1000,
          derivedFields: [
            {
              name: 'TraceID',
              matcherType: 'regex',
              matcherRegex: traceIdMatcherRegex,
              url: provisionedVariable('__value.raw'),
              datasourceUid: dataSourceUids.tempo,
              urlDisplayLabel: 'View trace',
            },
          ],
        },
      },
      {
        name: 'Tempo',
        type: 'tempo',
        uid: dataSourceUids.tempo,
        access: 'proxy',
        url: tempoUrl,
        jsonData: {
          tracesToLogsV2: {
            datasourceUid: dataSourceUids.loki,
            spanStartTimeShift: '-5m',
            spanEndTimeShift: '5m',
            customQuery: true,
            query: tracesToLogsQuery,
          },
          lokiSearch: { datasourceUid: dataSourceUids.loki },
          nodeGraph: { enabled: true },
        },
      },
    ],
  };
}

/**
 * Alloy's pipeline: tail every pod's log files on its node, label each stream with the pod's
 * namespace, pod, container and app, unwrap the CRI framing, and for the service's JSON lines keep
 * the level as a label and the trace id as structured metadata; push to Loki.
 */
export function alloyConfig(): string {
  return `discovery.kubernetes "pods" {
  role = "pod"
  selectors {
    role  = "pod"
    field = "spec.nodeName=" + coalesce(sys.env("HOSTNAME"), constants.hostname)
  }
}

discovery.relabel "pods" {
  targets = discovery.kubernetes.pods.targets
  rule {
    source_labels = ["__meta_kubernetes_namespace"]
    target_label  = "namespace"
  }
  rule {
    source_labels = ["__meta_kubernetes_pod_name"]
    target_label  = "pod"
  }
  rule {
    source_labels = ["__meta_kubernetes_pod_container_name"]
    target_label  = "container"
  }
  rule {
    source_labels = ["__meta_kubernetes_pod_label_app_kubernetes_io_name"]
    target_label  = "app"
  }
  rule {
    source_labels = ["__meta_kubernetes_pod_uid", "__meta_kubernetes_pod_container_name"]
    separator     = "/"
    replacement   = "/var/log/pods/*$1/*.log"
    target_label  = "__path__"
  }
}

local.file_match "pods" {
  path_targets = discovery.relabel.pods.output
}

loki.source.file "pods" {
  targets    = local.file_match.pods.targets
  forward_to = [loki.process.pods.receiver]
}

loki.process "pods" {
  stage.cri {}
  stage.match {
    selector = "{namespace=\\"${serviceIdentity.namespace}\\"}"
    stage.json {
      expressions = { level = "level", trace_id = "${traceIdLogField}" }
    }
    stage.labels {
      values = { level = "" }
    }
    stage.structured_metadata {
      values = { trace_id = "" }
    }
  }
  forward_to = [loki.write.default.receiver]
}

loki.write "default" {
  endpoint {
    url = "${lokiUrl}/loki/api/v1/push"
  }
}
`;
}

/**
 * The log store (Loki, single binary), the trace store (Tempo, single binary), the collector
 * (Grafana Alloy, a DaemonSet) and their Grafana data sources, linked both ways by trace id. On AWS
 * both stores keep their data in S3 (KMS-encrypted buckets reached through IRSA); on dev, on
 * their volumes.
 */
export class LogsAndTraces extends pulumi.ComponentResource {
  readonly otlpEndpoint = otlpEndpoint;
  /** What the service's egress NetworkPolicy must allow to export traces. */
  readonly tracePeers = [
    {
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': monitoringNamespace } },
      podSelector: { matchLabels: { 'app.kubernetes.io/name': 'tempo' } },
    },
  ];
  readonly tracePort = tempoOtlpHttpPort;

  constructor(name: string, args: LogsAndTracesArgs, opts?: pulumi.ComponentResourceOptions) {
    super('rag-platform:observability:LogsAndTraces', name, {}, opts);
    const { config, cluster } = args;
    const k8sOpts = { parent: this, provider: cluster.provider };
    const region = cluster.serviceAccountRole ? new pulumi.Config('aws').require('region') : '';

    // On AWS: a bucket per store and an IRSA role that reaches only that bucket.
    const objectStore = (store: 'loki' | 'tempo', retentionDays: number) => {
      if (!cluster.serviceAccountRole) return undefined;
      const key = new aws.kms.Key(
        `${name}-${store}`,
        {
          description: `${name}: ${store} objects`,
          enableKeyRotation: true,
          deletionWindowInDays: 30,
        },
        { parent: this },
      );
      const bucket = new PrivateBucket(
        `${name}-${store}`,
        // The store deletes by its own retention; the lifecycle is the backstop a day later.
        { kmsKeyArn: key.arn, expireAfterDays: retentionDays + 1, protect: false },
        { parent: this },
      );
      const role = cluster.serviceAccountRole(
        `${name}-${store}`,
        monitoringNamespace,
        store,
        pulumi.jsonStringify({
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Action: ['s3:ListBucket'],
              Resource: bucket.arn,
            },
            {
              Effect: 'Allow',
              Action: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
              Resource: pulumi.interpolate`${bucket.arn}/*`,
            },
            {
              Effect: 'Allow',
              Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
              Resource: key.arn,
            },
          ],
        }),
      );
      return { bucket: bucket.bucket, roleArn: role.arn };
    };
    const irsa = (roleArn: pulumi.Output<string> | undefined) =>
      roleArn ? { annotations: { 'eks.amazonaws.com/role-arn': roleArn } } : {};

    const lokiStore = objectStore('loki', config.logRetentionDays);
    const objectStoreName = lokiStore ? 's3' : 'filesystem';
    new k8s.helm.v3.Release(
      `${name}-loki`,
      {
        name: 'loki',
        chart: 'loki',
        version: config.lokiChartVersion,
        repositoryOpts: { repo: 'https://grafana.github.io/helm-charts' },
        namespace: args.namespace,
        atomic: true,
        timeout: 900,
        values: withPinnedImages('loki', config.lokiChartVersion, {
          deploymentMode: 'SingleBinary',
          loki: {
            auth_enabled: false,
            commonConfig: { replication_factor: 1 },
            schemaConfig: {
              configs: [
                {
                  from: '2026-01-01',
                  store: 'tsdb',
                  object_store: objectStoreName,
                  schema: 'v13',
                  index: { prefix: 'index_', period: '24h' },
                },
              ],
            },
            storage: lokiStore
              ? {
                  type: 's3',
                  bucketNames: {
                    chunks: lokiStore.bucket,
                    ruler: lokiStore.bucket,
                    admin: lokiStore.bucket,
                  },
                  s3: { region },
                }
              : { type: 'filesystem' },
            limits_config: { retention_period: `${config.logRetentionDays * 24}h` },
            compactor: { retention_enabled: true, delete_request_store: objectStoreName },
          },
          singleBinary: {
            replicas: 1,
            persistence: { size: `${config.storageGb}Gi`, storageClass: cluster.storageClassName },
            resources: {
              requests: { cpu: '250m', memory: '512Mi' },
              limits: { memory: '2Gi' },
            },
          },
          read: { replicas: 0 },
          write: { replicas: 0 },
          backend: { replicas: 0 },
          chunksCache: { enabled: false },
          resultsCache: { enabled: false },
          gateway: { enabled: false },
          lokiCanary: { enabled: false },
          test: { enabled: false },
          serviceAccount: irsa(lokiStore?.roleArn),
        }),
      },
      k8sOpts,
    );

    const tempoStore = objectStore('tempo', config.traceRetentionDays);
    new k8s.helm.v3.Release(
      `${name}-tempo`,
      {
        name: 'tempo',
        chart: 'tempo',
        version: config.tempoChartVersion,
        repositoryOpts: { repo: 'https://grafana.github.io/helm-charts' },
        namespace: args.namespace,
        atomic: true,
        values: withPinnedImages('tempo', config.tempoChartVersion, {
          tempo: {
            retention: `${config.traceRetentionDays * 24}h`,
            reportingEnabled: false,
            // OTLP only (what the service exports): no Jaeger or OpenCensus listeners.
            receivers: {
              otlp: {
                protocols: {
                  http: { endpoint: `0.0.0.0:${tempoOtlpHttpPort}` },
                  grpc: { endpoint: '0.0.0.0:4317' },
                },
              },
            },
            storage: {
              trace: {
                ...(tempoStore
                  ? {
                      backend: 's3',
                      s3: {
                        bucket: tempoStore.bucket,
                        endpoint: `s3.${region}.amazonaws.com`,
                        region,
                      },
                    }
                  : { backend: 'local', local: { path: '/var/tempo/traces' } }),
                wal: { path: '/var/tempo/wal' },
              },
            },
            resources: {
              requests: { cpu: '100m', memory: '256Mi' },
              limits: { memory: '2Gi' },
            },
          },
          persistence: {
            enabled: true,
            size: `${config.storageGb}Gi`,
            storageClassName: cluster.storageClassName,
          },
          serviceAccount: irsa(tempoStore?.roleArn),
        }),
      },
      k8sOpts,
    );

    new k8s.helm.v3.Release(
      `${name}-alloy`,
      {
        name: 'alloy',
        chart: 'alloy',
        version: config.alloyChartVersion,
        repositoryOpts: { repo: 'https://grafana.github.io/helm-charts' },
        namespace: args.namespace,
        atomic: true,
        values: withPinnedImages('alloy', config.alloyChartVersion, {
          controller: { type: 'daemonset' },
          alloy: {
            configMap: { create: true, content: alloyConfig() },
            // The kubelet writes every container's stdout under /var/log/pods on its node.
            mounts: { varlog: true },
            resources: {
              requests: { cpu: '50m', memory: '128Mi' },
              limits: { memory: '512Mi' },
            },
          },
        }),
      },
      k8sOpts,
    );

    // The kube-prometheus-stack Grafana sidecar provisions every ConfigMap with this label.
    new k8s.core.v1.ConfigMap(
      `${name}-datasources`,
      {
        metadata: {
          name: 'logs-traces-datasources',
          namespace: args.namespace,
          labels: { grafana_datasource: '1' },
        },
        data: { 'logs-traces.yaml': JSON.stringify(dataSources(), null, 2) },
      },
      k8sOpts,
    );
    this.registerOutputs({});
  }
}
