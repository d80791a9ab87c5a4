import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import * as random from '@pulumi/random';
import { alertmanagerReceiverSecret } from '../../catalog/alerting/receiver-secrets';
import type { StackConfig } from '../config/stack-config';
import { type GeneratedArtifacts } from '../observability/generated-artifacts';
import { grafanaUrlFor, withStackDashboardLinks } from '../observability/dashboard-links';
import { afterMonitoringCrds, type MonitoringCrds } from '../observability/monitoring-crds';
import type { ClusterHandle } from './cluster';
import { grafanaIngress } from './grafana-ingress';
import { withPinnedImages } from '../charts/chart-images';

export interface ObservabilityArgs {
  config: StackConfig['observability'];
  cluster: ClusterHandle;
  artifacts: GeneratedArtifacts;
  /** File name -> value for the receiver secrets the Alertmanager config reads. */
  receiverSecrets: Record<string, string>;
  /** IngressClass of Grafana's Ingress: the one the API's Ingress uses. */
  ingressClassName: string;
}

/**
 * The Alertmanager the stack runs, pinned rather than the chart's default: the generated config
 * needs >= 0.26 (webhook url_file), and the tests check it with amtool of this same version
 * (scripts/tools/amtool.sh; a test compares the two).
 */
export const alertmanagerVersion = 'v0.28.1';
/** quay.io/prometheus/alertmanager:v0.28.1's multi-arch index digest. */
export const alertmanagerImageDigest =
  '27c475db5fb156cab31d5c18a4251ac7ed567746a2483ff264516437a39b15ba';

export const monitoringNamespace = 'monitoring';
/** kube-prometheus-stack's control-plane monitors whose targets a managed or local cluster hides. */
export const unreachableControlPlane = [
  'kubeScheduler',
  'kubeControllerManager',
  'kubeEtcd',
  'kubeProxy',
] as const;
const unreachableControlPlaneRules = [
  'kubeSchedulerAlerting',
  'kubeSchedulerRecording',
  'kubeControllerManager',
  'etcd',
  'kubeProxy',
];
// The generated config reads its credentials from where the operator mounts this Secret.
const receiverSecretName = alertmanagerReceiverSecret;

/**
 * kube-prometheus-stack loaded with this repo's generated rules (PrometheusRule), dashboards
 * (ConfigMaps for the Grafana sidecar) and Alertmanager config, plus the service's ServiceMonitor.
 */
export class Observability extends pulumi.ComponentResource implements MonitoringCrds {
  readonly namespace = monitoringNamespace;
  /**
   * The in-cluster Prometheus API: the chart's Service `<fullname>-prometheus` (the release is
   * named after the chart, so the fullname is `kube-prometheus-stack`), port 9090.
   */
  readonly prometheusUrl = `http://kube-prometheus-stack-prometheus.${monitoringNamespace}.svc.cluster.local:9090`;
  private readonly provider: k8s.Provider;
  /** The kube-prometheus-stack release: it installs the monitoring.coreos.com CRDs. */
  readonly crdsInstalled: k8s.helm.v3.Release;
  /** The host name of the load balancer serving Grafana (empty where no controller reports one). */
  readonly grafanaLoadBalancerHostname: pulumi.Output<string>;

  constructor(name: string, args: ObservabilityArgs, opts?: pulumi.ComponentResourceOptions) {
    super('rag-platform:observability:Observability', name, {}, opts);
    const { config, cluster, artifacts } = args;
    const k8sOpts = { parent: this, provider: cluster.provider };
    this.provider = cluster.provider;

    const missing = artifacts.receiverSecretFiles.filter((f) => !(f in args.receiverSecrets));
    if (missing.length > 0) {
      throw new Error(
        `alertmanagerReceiverSecrets is missing ${missing.join(', ')} (read by alerts/generated/alertmanager.yaml); ` +
          `set each with \`pulumi config set --secret --path 'alertmanagerReceiverSecrets.<name>' <value>\``,
      );
    }
    // URLs Alertmanager calls (Slack webhook, the dead-man's switch ping): a typo would only show
    // as failed notifications, or as a heartbeat page nobody can explain.
    const badUrls = artifacts.receiverSecretFiles.filter(
      (f) => f.endsWith('-url') && !/^https:\/\/[^\s/]+\/\S*$/.test(args.receiverSecrets[f]),
    );
    if (badUrls.length > 0) {
      throw new Error(`alertmanagerReceiverSecrets: ${badUrls.join(', ')} must be an https URL`);
    }

    const namespace = new k8s.core.v1.Namespace(
      name,
      { metadata: { name: monitoringNamespace } },
      k8sOpts,
    );
    const ns = namespace.metadata.name;
    const receivers = new k8s.core.v1.Secret(
      `${name}-receivers`,
      {
        metadata: { name: receiverSecretName, namespace: ns },
        stringData: pulumi.secret(args.receiverSecrets),
      },
      k8sOpts,
    );
    const grafanaPassword = new random.RandomPassword(
      `${name}-grafana-admin`,
      { length: 32, special: false },
      { parent: this },
    );
    const storage = (gb: number) => ({
      volumeClaimTemplate: {
        spec: {
          storageClassName: cluster.storageClassName,
          accessModes: ['ReadWriteOnce'],
          resources: { requests: { storage: `${gb}Gi` } },
        },
      },
    });

    const stack = new k8s.helm.v3.Release(
      name,
      {
        name: 'kube-prometheus-stack',
        chart: 'kube-prometheus-stack',
        version: config.chartVersion,
        repositoryOpts: { repo: 'https://prometheus-community.github.io/helm-charts' },
        namespace: ns,
        atomic: true,
        timeout: 900,
        values: withPinnedImages('kube-prometheus-stack', config.chartVersion, {
          // EKS runs the scheduler, controller manager and etcd out of reach and kube-proxy serves
          // metrics on 127.0.0.1 only (kind and k3d bind them all to localhost): their monitors
          // would have no target and their "down" alerts would fire from the first minute.
          ...Object.fromEntries(unreachableControlPlane.map((c) => [c, { enabled: false }])),
          defaultRules: {
            rules: Object.fromEntries(unreachableControlPlaneRules.map((r) => [r, false])),
          },
          prometheus: {
            // Two replicas scrape and alert independently: Alertmanager de-duplicates their
            // alerts (the operator drops the replica label from them), and Grafana's queries
            // stick to one replica so graphs do not flip between two slightly different series.
            service: config.prometheusReplicas > 1 ? { sessionAffinity: 'ClientIP' } : {},
            prometheusSpec: {
              replicas: config.prometheusReplicas,
              retention: config.prometheusRetention,
              // Time alone lets a busy week fill the volume and stop ingestion: cap by size too,
              // below the volume so compaction has room.
              retentionSize: `${Math.floor(config.prometheusStorageGb * 0.85)}GiB`,
              storageSpec: storage(config.prometheusStorageGb),
              // Select every rule and monitor in the cluster, not only the chart's own labels.
              ruleSelectorNilUsesHelmValues: false,
              serviceMonitorSelectorNilUsesHelmValues: false,
              podMonitorSelectorNilUsesHelmValues: false,
              resources: { requests: { cpu: '500m', memory: '2Gi' }, limits: { memory: '4Gi' } },
            },
          },
          alertmanager: {
            config: artifacts.alertmanagerConfig,
            alertmanagerSpec: {
              // The chart writes repository:tag@sha when sha is set: the release's index digest.
              image: { tag: alertmanagerVersion, sha: alertmanagerImageDigest },
              replicas: config.alertmanagerReplicas,
              secrets: [receiverSecretName],
              storage: storage(5),
              resources: { requests: { cpu: '50m', memory: '128Mi' }, limits: { memory: '256Mi' } },
            },
            // The chart defaults minAvailable to 1 and writes every bound that is set: one bound only,
            // the one it already has, or the API server rejects the budget and the release rolls back.
            podDisruptionBudget: {
              enabled: config.alertmanagerReplicas > 1,
              minAvailable: Math.max(1, config.alertmanagerReplicas - 1),
            },
          },
          grafana: {
            adminPassword: grafanaPassword.result,
            replicas: config.grafanaReplicas,
            // Dashboards and datasources are provisioned from this repository, so replicas are
            // interchangeable and need no shared database; a volume (ReadWriteOnce) would pin
            // them to one node. Login sessions live per replica: keep a client on one.
            ...(config.grafanaReplicas > 1
              ? {
                  persistence: { enabled: false },
                  service: { sessionAffinity: 'ClientIP' },
                  podDisruptionBudget: { minAvailable: 1 },
                  topologySpreadConstraints: [
                    {
                      maxSkew: 1,
                      topologyKey: 'topology.kubernetes.io/zone',
                      whenUnsatisfiable: 'ScheduleAnyway',
                      labelSelector: {
                        matchLabels: {
                          'app.kubernetes.io/name': 'grafana',
                          'app.kubernetes.io/instance': 'kube-prometheus-stack',
                        },
                      },
                    },
                  ],
                }
              : {
                  persistence: {
                    enabled: true,
                    size: '5Gi',
                    storageClassName: cluster.storageClassName,
                  },
                }),
            sidecar: { dashboards: { enabled: true, label: 'grafana_dashboard', labelValue: '1' } },
          },
        }),
      },
      { ...k8sOpts, dependsOn: [receivers] },
    );
    this.crdsInstalled = stack;
    const afterCrds = afterMonitoringCrds(this, k8sOpts);

    for (const file of artifacts.ruleFiles) {
      new k8s.apiextensions.CustomResource(
        `${name}-rules-${file.name}`,
        {
          apiVersion: 'monitoring.coreos.com/v1',
          kind: 'PrometheusRule',
          metadata: {
            name: `rag-${file.name}`,
            namespace: ns,
            labels: { 'app.kubernetes.io/part-of': 'rag-platform' },
          },
          spec: { groups: withStackDashboardLinks(file.groups, grafanaUrlFor(config.grafanaHost)) },
        },
        afterCrds,
      );
    }
    for (const dashboard of artifacts.dashboards) {
      new k8s.core.v1.ConfigMap(
        `${name}-dashboard-${dashboard.name}`,
        {
          metadata: {
            name: `dashboard-${dashboard.name}`,
            namespace: ns,
            labels: { grafana_dashboard: '1' },
          },
          data: { [`${dashboard.name}.json`]: dashboard.json },
        },
        k8sOpts,
      );
    }
    const grafana = grafanaIngress(
      `${name}-grafana`,
      { config, namespace: ns, ingressClassName: args.ingressClassName },
      k8sOpts,
    );
    this.grafanaLoadBalancerHostname = grafana.status.apply(
      (s) => s?.loadBalancer?.ingress?.[0]?.hostname ?? '',
    );
    this.registerOutputs({});
  }

  /**
   * Scrapes the service's /metrics through its Service port. No `jobLabel`: the operator then sets
   * `job` to the Service's name, which is what the alerts select on.
   */
  monitorService(
    name: string,
    namespace: pulumi.Input<string>,
    selector: Record<string, string>,
    port: string,
  ) {
    return new k8s.apiextensions.CustomResource(
      name,
      {
        apiVersion: 'monitoring.coreos.com/v1',
        kind: 'ServiceMonitor',
        metadata: { name, namespace: this.namespace },
        spec: {
          namespaceSelector: { matchNames: [namespace] },
          selector: { matchLabels: selector },
          endpoints: [{ port, path: '/metrics', interval: '15s' }],
        },
      },
      afterMonitoringCrds(this, { parent: this, provider: this.provider }),
    );
  }
}
