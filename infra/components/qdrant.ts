import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import * as random from '@pulumi/random';
import type { StackConfig } from '../config/stack-config';
import { afterMonitoringCrds, type MonitoringCrds } from '../observability/monitoring-crds';
import type { ClusterHandle } from './cluster';

export interface QdrantArgs {
  config: StackConfig['qdrant'];
  cluster: ClusterHandle;
  /** The chart's ServiceMonitor needs the monitoring CRDs installed first. */
  monitoring: MonitoringCrds;
}

export const qdrantNamespace = 'qdrant';

/** The official Qdrant chart: a clustered StatefulSet with data and snapshot volumes and an API key. */
export class Qdrant extends pulumi.ComponentResource {
  readonly url: pulumi.Output<string>;
  readonly apiKey: pulumi.Output<string>;
  readonly port = 6333;
  /** The chart's release, which creates the namespace. */
  readonly installed: k8s.helm.v3.Release;
  readonly egressPeers = [
    {
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': qdrantNamespace } },
      podSelector: { matchLabels: { 'app.kubernetes.io/name': 'qdrant' } },
    },
  ];

  constructor(name: string, args: QdrantArgs, opts?: pulumi.ComponentResourceOptions) {
    super('rag-platform:qdrant:Qdrant', name, {}, opts);
    const { config, cluster } = args;
    const apiKey = new random.RandomPassword(
      `${name}-api-key`,
      { length: 48, special: false },
      { parent: this },
    );
    const release = new k8s.helm.v3.Release(
      name,
      {
        name: 'qdrant',
        chart: 'qdrant',
        version: config.chartVersion,
        repositoryOpts: { repo: 'https://qdrant.github.io/qdrant-helm' },
        namespace: qdrantNamespace,
        createNamespace: true,
        atomic: true,
        values: {
          replicaCount: config.replicas,
          apiKey: apiKey.result,
          config: {
            cluster: { enabled: config.replicas > 1 },
            // Collections the service creates inherit this; shard count defaults to the node count.
            storage: {
              collection: {
                replication_factor: config.replicationFactor,
                write_consistency_factor: config.writeConsistencyFactor,
              },
            },
          },
          persistence: {
            size: `${config.storageGb}Gi`,
            storageClassName: cluster.storageClassName,
          },
          snapshotPersistence: {
            enabled: true,
            size: `${config.snapshotStorageGb}Gi`,
            storageClassName: cluster.storageClassName,
          },
          resources: {
            requests: { cpu: '500m', memory: '1Gi' },
            limits: { cpu: '2', memory: '4Gi' },
          },
          podDisruptionBudget: { enabled: config.replicas > 1, maxUnavailable: 1 },
          topologySpreadConstraints: [
            {
              maxSkew: 1,
              topologyKey: 'topology.kubernetes.io/zone',
              // On EKS the nodes span three zones: a node per zone or none, never two in one zone.
              // A local cluster has one zone at most, where DoNotSchedule would strand replicas.
              whenUnsatisfiable: cluster.serviceAccountRole ? 'DoNotSchedule' : 'ScheduleAnyway',
              labelSelector: { matchLabels: { 'app.kubernetes.io/name': 'qdrant' } },
            },
          ],
          metrics: { serviceMonitor: { enabled: true } },
        },
      },
      afterMonitoringCrds(args.monitoring, { parent: this, provider: cluster.provider }),
    );
    this.installed = release;
    this.apiKey = pulumi.secret(apiKey.result);
    this.url = pulumi.interpolate`http://${release.status.name}.${qdrantNamespace}.svc.cluster.local:${this.port}`;
    this.registerOutputs({ url: this.url });
  }
}
