import type * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import { certManagerPods, certManagerWebhookPort } from './cert-manager';
import type { ClusterHandle } from './cluster';
import { lokiPort, tempoOtlpHttpPort, tempoPort } from './logs-traces';
import {
  allowFlows,
  anyPod,
  anywhere,
  fromKubernetesApi,
  IsolatedNamespace,
  kubernetesApi,
  podsIn,
  type PodFlows,
} from './network-policies';

type Peer = k8s.types.input.networking.v1.NetworkPolicyPeer;
type Labels = Record<string, string>;

/** Where a data store is reached: peers and port, as the service's egress uses them. */
interface StoreEndpoint {
  peers: Peer[];
  port: number;
}

export interface PlatformNetworkPoliciesArgs {
  cluster: ClusterHandle;
  /** The service's namespace and the labels on all its pods (API, workers, migrations). */
  app: { namespace: string; pods: Labels };
  /** Who reaches the public endpoints (the ingress controller's namespaces, the ALB's subnets). */
  ingressFrom: { namespaces: string[]; cidrs: string[] };
  monitoring: { namespace: string; installed: pulumi.Resource };
  /** Vault, and clients beyond the service's pods and Prometheus (the raft snapshot CronJob). */
  vault: { namespace: string; installed: pulumi.Resource; clients: Peer[] };
  certManager: { namespace: string; installed: pulumi.Resource };
  qdrant: { namespace: string; installed: pulumi.Resource; port: number };
  argoRollouts: { namespace: string; installed: pulumi.Resource };
  keda: { namespace: string; installed: pulumi.Resource };
  postgres: StoreEndpoint & { exporterRoles: string[] };
  redis: StoreEndpoint;
  /**
   * Dev: Postgres (CloudNativePG, operator in its own namespace) and Redis run in the service's
   * namespace, which RagApp isolates; their pods need allows of their own there.
   */
  inCluster?: {
    postgresPods: Labels;
    cnpgOperator: { namespace: string; installed: pulumi.Resource };
    redisPods: Labels;
  };
}

// Pod labels the charts put on their pods (the charts at the versions the stacks pin).
/** kube-prometheus-stack: pods the Prometheus and Alertmanager operators create, and Grafana's. */
export const chartPods = {
  prometheus: { 'app.kubernetes.io/name': 'prometheus' },
  alertmanager: { 'app.kubernetes.io/name': 'alertmanager' },
  grafana: { 'app.kubernetes.io/name': 'grafana' },
  loki: { 'app.kubernetes.io/name': 'loki' },
  tempo: { 'app.kubernetes.io/name': 'tempo' },
  alloy: { 'app.kubernetes.io/name': 'alloy' },
  kubeStateMetrics: { 'app.kubernetes.io/name': 'kube-state-metrics' },
  prometheusOperator: { 'app.kubernetes.io/name': 'kube-prometheus-stack-prometheus-operator' },
  vaultServer: { 'app.kubernetes.io/name': 'vault', component: 'server' },
  vaultInjector: { 'app.kubernetes.io/name': 'vault-agent-injector' },
  qdrant: { 'app.kubernetes.io/name': 'qdrant' },
  argoRollouts: { 'app.kubernetes.io/name': 'argo-rollouts' },
  kedaOperator: { 'app.kubernetes.io/name': 'keda-operator' },
  kedaMetricsApiServer: { 'app.kubernetes.io/name': 'keda-operator-metrics-apiserver' },
  kedaWebhooks: { 'app.kubernetes.io/name': 'keda-admission-webhooks' },
  cnpgOperator: { 'app.kubernetes.io/name': 'cloudnative-pg' },
} as const;

const exporterPods = (name: string) => ({ 'app.kubernetes.io/name': name });
const ports = (...numbers: number[]) => numbers.map((port) => ({ port }));

/**
 * Default-deny NetworkPolicies for every namespace the platform creates besides the service's
 * (RagApp isolates that one), each with the flows its pods need and nothing more.
 */
export class PlatformNetworkPolicies extends pulumi.ComponentResource {
  constructor(
    name: string,
    args: PlatformNetworkPoliciesArgs,
    opts?: pulumi.ComponentResourceOptions,
  ) {
    super('rag-platform:network:PlatformNetworkPolicies', name, {}, opts);
    const { cluster, app, monitoring, vault, qdrant } = args;
    const parent = { parent: this };
    const prometheus = podsIn(monitoring.namespace, chartPods.prometheus);
    const appPods = podsIn(app.namespace, app.pods);
    const isolate = (ns: { namespace: string; installed: pulumi.Resource }, pods: PodFlows[]) =>
      new IsolatedNamespace(
        `${name}-${ns.namespace}`,
        { cluster, namespace: ns.namespace, pods, after: [ns.installed] },
        parent,
      );

    const postgresExporters = args.postgres.exporterRoles.map((r) => `postgres-exporter-${r}`);
    isolate(monitoring, [
      // The operator, kube-state-metrics, Prometheus' discovery, Grafana's sidecars, config
      // reloaders and the chart's admission-webhook hook Jobs all talk to the API server.
      { name: 'kubernetes-api', pods: {}, egress: [kubernetesApi] },
      {
        name: 'prometheus',
        pods: chartPods.prometheus,
        ingress: [
          // Grafana's queries and Prometheus scraping itself and its config reloader.
          { peers: [podsIn(monitoring.namespace)], ports: ports(9090, 8080) },
          // Canary analysis and the worker autoscaler query it.
          {
            peers: [
              podsIn(args.argoRollouts.namespace, chartPods.argoRollouts),
              podsIn(args.keda.namespace, chartPods.kedaOperator),
            ],
            ports: ports(9090),
          },
        ],
        egress: [
          // Scrape targets are pods everywhere; each namespace's ingress says which ports.
          { peers: [anyPod] },
          // Kubelets (cAdvisor) and node-exporter listen on node addresses (host network).
          { peers: [anywhere], ports: ports(10250, 9100) },
        ],
      },
      {
        name: 'alertmanager',
        pods: chartPods.alertmanager,
        ingress: [
          {
            peers: [
              podsIn(monitoring.namespace, chartPods.prometheus),
              podsIn(monitoring.namespace, chartPods.grafana),
            ],
            ports: ports(9093),
          },
          { peers: [prometheus], ports: ports(8080) },
          // Replicas gossip to de-duplicate notifications and share silences.
          {
            peers: [podsIn(monitoring.namespace, chartPods.alertmanager)],
            ports: [{ port: 9094 }, { port: 9094, protocol: 'UDP' }],
          },
        ],
        egress: [
          // Receivers: Slack and PagerDuty over HTTPS, mail through the smarthost (587).
          { peers: [anywhere], ports: ports(443, 587) },
          {
            peers: [podsIn(monitoring.namespace, chartPods.alertmanager)],
            ports: [{ port: 9094 }, { port: 9094, protocol: 'UDP' }],
          },
        ],
      },
      {
        name: 'grafana',
        pods: chartPods.grafana,
        ingress: [
          {
            peers: [
              ...args.ingressFrom.namespaces.map((n) => podsIn(n)),
              ...args.ingressFrom.cidrs.map((cidr) => ({ ipBlock: { cidr } })),
              prometheus,
            ],
            ports: ports(3000),
          },
        ],
        egress: [
          {
            peers: [
              podsIn(monitoring.namespace, chartPods.prometheus),
              podsIn(monitoring.namespace, chartPods.alertmanager),
            ],
            ports: ports(9090, 9093),
          },
          // The log and trace data sources.
          { peers: [podsIn(monitoring.namespace, chartPods.loki)], ports: ports(lokiPort) },
          { peers: [podsIn(monitoring.namespace, chartPods.tempo)], ports: ports(tempoPort) },
        ],
      },
      {
        // Loki: pushes from the collector, queries from Grafana, scrapes. Its S3 traffic (443)
        // leaves through the namespace-wide Kubernetes API rule.
        name: 'loki',
        pods: chartPods.loki,
        ingress: [
          {
            peers: [
              podsIn(monitoring.namespace, chartPods.alloy),
              podsIn(monitoring.namespace, chartPods.grafana),
              prometheus,
            ],
            ports: ports(lokiPort),
          },
        ],
      },
      {
        // Tempo: the service's OTLP exports, Grafana's queries, scrapes.
        name: 'tempo',
        pods: chartPods.tempo,
        ingress: [
          { peers: [podsIn(app.namespace)], ports: ports(tempoOtlpHttpPort) },
          {
            peers: [podsIn(monitoring.namespace, chartPods.grafana), prometheus],
            ports: ports(tempoPort),
          },
        ],
      },
      {
        // The collector ships every pod's log lines to Loki.
        name: 'alloy',
        pods: chartPods.alloy,
        egress: [{ peers: [podsIn(monitoring.namespace, chartPods.loki)], ports: ports(lokiPort) }],
      },
      {
        // Its admission webhook (PrometheusRule validation) and metrics share the https port.
        name: 'prometheus-operator',
        pods: chartPods.prometheusOperator,
        ingress: [fromKubernetesApi(10250)],
      },
      {
        name: 'kube-state-metrics',
        pods: chartPods.kubeStateMetrics,
        ingress: [{ peers: [prometheus], ports: ports(8080, 8081) }],
      },
      ...postgresExporters.map((exporter) => ({
        name: exporter,
        pods: exporterPods(exporter),
        ingress: [{ peers: [prometheus], ports: ports(9187) }],
        egress: [{ peers: args.postgres.peers, ports: ports(args.postgres.port) }],
      })),
      {
        name: 'redis-exporter',
        pods: exporterPods('redis-exporter'),
        ingress: [{ peers: [prometheus], ports: ports(9121) }],
        egress: [{ peers: args.redis.peers, ports: ports(args.redis.port) }],
      },
      {
        // Probes the public HTTPS endpoint the way clients reach it.
        name: 'blackbox-exporter',
        pods: exporterPods('blackbox-exporter'),
        ingress: [{ peers: [prometheus], ports: ports(9115) }],
        egress: [{ peers: [anywhere], ports: ports(443) }],
      },
    ]);

    const vaultServers = podsIn(vault.namespace, chartPods.vaultServer);
    isolate(vault, [
      {
        name: 'server',
        pods: chartPods.vaultServer,
        ingress: [
          // Vault Agent in the service's pods, Prometheus (/v1/sys/metrics), the snapshots.
          // `pulumi up` configures Vault through a port-forward, which the kubelet opens inside
          // the pod's network namespace: no policy applies to it.
          { peers: [appPods, prometheus, ...vault.clients], ports: ports(8200) },
          // Raft replication and request forwarding between servers (8201), joins on 8200.
          { peers: [vaultServers], ports: ports(8200, 8201) },
        ],
        egress: [
          { peers: [vaultServers], ports: ports(8200, 8201) },
          // Kubernetes service registration and TokenReview; AWS KMS (auto-unseal) over 443.
          kubernetesApi,
          // The database secrets engine creates and drops the service's users.
          { peers: args.postgres.peers, ports: ports(args.postgres.port) },
        ],
      },
      {
        // The mutating webhook that adds Vault Agent to the service's pods.
        name: 'agent-injector',
        pods: chartPods.vaultInjector,
        ingress: [fromKubernetesApi(8080)],
        egress: [kubernetesApi],
      },
    ]);

    isolate(args.certManager, [
      // The controller, cainjector and webhook all watch the API server.
      { name: 'kubernetes-api', pods: {}, egress: [kubernetesApi] },
      {
        // The webhook validates and mutates cert-manager's resources for the API server.
        name: 'webhook',
        pods: certManagerPods.webhook,
        ingress: [fromKubernetesApi(certManagerWebhookPort)],
      },
    ]);

    const qdrantPeers = podsIn(qdrant.namespace, chartPods.qdrant);
    isolate(qdrant, [
      {
        name: 'qdrant',
        pods: chartPods.qdrant,
        ingress: [
          // The REST API for the service, and /metrics on the same port for Prometheus.
          { peers: [appPods, prometheus], ports: ports(qdrant.port) },
          // Peers: consensus and shard transfers on p2p 6335, forwarded requests on 6333/6334.
          { peers: [qdrantPeers], ports: ports(6333, 6334, 6335) },
        ],
        egress: [{ peers: [qdrantPeers], ports: ports(6333, 6334, 6335) }],
      },
    ]);

    const prometheusApi = { peers: [prometheus], ports: ports(9090) };
    isolate(args.argoRollouts, [
      {
        name: 'controller',
        pods: chartPods.argoRollouts,
        ingress: [{ peers: [prometheus], ports: ports(8090) }],
        // The canary's analysis queries Prometheus.
        egress: [kubernetesApi, prometheusApi],
      },
    ]);

    const kedaOperator = podsIn(args.keda.namespace, chartPods.kedaOperator);
    isolate(args.keda, [
      { name: 'kubernetes-api', pods: {}, egress: [kubernetesApi] },
      {
        // Scalers query Prometheus; the metrics API server asks the operator over gRPC.
        name: 'operator',
        pods: chartPods.kedaOperator,
        ingress: [
          {
            peers: [podsIn(args.keda.namespace, chartPods.kedaMetricsApiServer)],
            ports: ports(9666),
          },
        ],
        egress: [prometheusApi],
      },
      {
        // external.metrics.k8s.io, an aggregated API the API server calls.
        name: 'metrics-apiserver',
        pods: chartPods.kedaMetricsApiServer,
        ingress: [fromKubernetesApi(6443)],
        egress: [{ peers: [kedaOperator], ports: ports(9666) }],
      },
      {
        name: 'admission-webhooks',
        pods: chartPods.kedaWebhooks,
        ingress: [fromKubernetesApi(9443)],
      },
    ]);

    if (args.inCluster) this.inClusterStores(name, args, args.inCluster);
    this.registerOutputs({});
  }

  private inClusterStores(
    name: string,
    args: PlatformNetworkPoliciesArgs,
    stores: NonNullable<PlatformNetworkPoliciesArgs['inCluster']>,
  ) {
    const { app, monitoring, cluster } = args;
    const operator = stores.cnpgOperator;
    const postgresPods = podsIn(app.namespace, stores.postgresPods);
    new IsolatedNamespace(
      `${name}-${operator.namespace}`,
      {
        cluster,
        namespace: operator.namespace,
        after: [operator.installed],
        pods: [
          {
            name: 'operator',
            pods: chartPods.cnpgOperator,
            ingress: [fromKubernetesApi(9443)],
            // The instance manager's status endpoint on every Postgres pod.
            egress: [kubernetesApi, { peers: [postgresPods], ports: ports(8000) }],
          },
        ],
      },
      { parent: this },
    );
    const k8sOpts = { parent: this, provider: cluster.provider };
    const exporters = args.postgres.exporterRoles.map((r) =>
      podsIn(monitoring.namespace, exporterPods(`postgres-exporter-${r}`)),
    );
    allowFlows(
      `${name}-postgres`,
      app.namespace,
      {
        name: 'postgres',
        pods: stores.postgresPods,
        ingress: [
          {
            peers: [
              podsIn(app.namespace, app.pods),
              ...exporters,
              // Vault's database secrets engine manages the service's users.
              podsIn(args.vault.namespace, chartPods.vaultServer),
            ],
            ports: ports(5432),
          },
          // Streaming replication between instances.
          { peers: [postgresPods], ports: ports(5432) },
          { peers: [podsIn(operator.namespace, chartPods.cnpgOperator)], ports: ports(8000) },
          {
            peers: [podsIn(monitoring.namespace, chartPods.prometheus)],
            ports: ports(9187),
          },
        ],
        // The instance manager watches its Cluster; replicas stream from the primary.
        egress: [kubernetesApi, { peers: [postgresPods], ports: ports(5432) }],
      },
      k8sOpts,
    );
    allowFlows(
      `${name}-redis`,
      app.namespace,
      {
        name: 'redis',
        pods: stores.redisPods,
        ingress: [
          {
            peers: [
              podsIn(app.namespace, app.pods),
              podsIn(monitoring.namespace, exporterPods('redis-exporter')),
            ],
            ports: ports(args.redis.port),
          },
        ],
      },
      k8sOpts,
    );
  }
}
