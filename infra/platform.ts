import * as pulumi from '@pulumi/pulumi';
import * as random from '@pulumi/random';
import { databaseRoles } from '../catalog/database-roles';
import { serviceIdentity } from '../catalog/service-identity';
import { ArgoRollouts, argoRolloutsNamespace } from './components/argo-rollouts';
import { PlatformBackups } from './components/backups';
import { CertManager, certManagerNamespace } from './components/cert-manager';
import { EksCluster, ExistingCluster, type ClusterHandle } from './components/cluster';
import type { DatastoreConnection, PostgresConnection } from './components/datastore-connection';
import { LoadBalancerController } from './components/ingress-controller';
import { Karpenter } from './components/karpenter';
import { Keda, kedaNamespace } from './components/keda';
import { LogsAndTraces } from './components/logs-traces';
import { MetricsServer } from './components/metrics-server';
import { MetricsExporters } from './components/metrics-exporters';
import { ImageRegistry } from './components/image-registry';
import { Network } from './components/network';
import { Observability, monitoringNamespace } from './components/observability';
import { PlatformNetworkPolicies } from './components/platform-network-policies';
import {
  CloudNativePostgres,
  cnpgInstancePods,
  cnpgOperatorNamespace,
} from './components/postgres-cloudnative';
import { PostgresBootstrap } from './components/postgres-bootstrap';
import { RdsPostgres } from './components/postgres-rds';
import { PreviewAccess } from './components/preview-access';
import { PublicDns } from './components/public-dns';
import { Qdrant, qdrantNamespace } from './components/qdrant';
import { appLabels, appNamespace, appServiceAccount, RagApp } from './components/rag-app';
import { ElastiCacheRedis } from './components/redis-elasticache';
import { InClusterRedis, redisPods } from './components/redis-in-cluster';
import {
  databaseCredentialsTemplate,
  databaseUrlTemplate,
  jwtSigningKeysTemplate,
  operatorSecretTemplate,
  Vault,
  vaultAppRole,
  vaultDatabaseCredsPath,
  vaultMigrationRole,
  vaultNamespace,
  vaultOperatorSecretPath,
} from './components/vault';
import type { StackConfig } from './config/stack-config';
import type { GeneratedArtifacts } from './observability/generated-artifacts';
import type { StackOutputs } from './stack-outputs';

/** The migration Job's own account: its Vault role issues the migration role's users only. */
export const appMigrationServiceAccount = `${appServiceAccount}-migrate`;

/** Namespace of the ingress controller a dev cluster runs (ingress-nginx's default). */
const devIngressNamespace = 'ingress-nginx';

/** Declares one environment: AWS foundations or an existing cluster, then the same workloads. */
export function deployPlatform(config: StackConfig, artifacts: GeneratedArtifacts): StackOutputs {
  const stack = pulumi.getStack();
  const production = config.environment === 'production';
  let cluster: ClusterHandle;
  let postgres: PostgresConnection;
  let redis: DatastoreConnection;
  let observability: Observability;
  let dnsZoneId: string | undefined;
  // AWS stacks only: the dev stack's data lives in a throw-away cluster (README).
  let backups: ((qdrant: Qdrant, certManager: CertManager) => PlatformBackups) | undefined;
  let inClusterStores: ConstructorParameters<typeof PlatformNetworkPolicies>[1]['inCluster'];
  // The dev cluster brings its own ingress controller (README); the AWS stacks' is an ALB.
  let ingressFrom = {
    namespaces: [devIngressNamespace, monitoringNamespace],
    cidrs: [] as string[],
  };
  // First after the cluster: it installs the monitoring CRDs everything else's monitors need.
  const monitoringFor = (on: ClusterHandle) =>
    new Observability('monitoring', {
      config: config.observability,
      cluster: on,
      artifacts,
      receiverSecrets: config.alertmanagerReceiverSecrets,
      ingressClassName: config.app.ingressClassName,
    });

  if (config.environment === 'dev') {
    cluster = new ExistingCluster(`rag-${stack}`, config.cluster);
    observability = monitoringFor(cluster);
    const cnpg = new CloudNativePostgres('postgres', {
      config: config.postgres,
      cluster,
      namespace: appNamespace,
      monitoring: observability,
    });
    postgres = cnpg;
    redis = new InClusterRedis('redis', { config: config.redis, cluster, namespace: appNamespace });
    inClusterStores = {
      postgresPods: cnpgInstancePods,
      cnpgOperator: { namespace: cnpgOperatorNamespace, installed: cnpg.operatorInstalled },
      redisPods,
    };
  } else {
    const clusterName = `rag-${stack}`;
    const logRetentionDays = config.logRetentionDays;
    dnsZoneId = config.dns.hostedZoneId;
    if (config.imageRegistry) new ImageRegistry('image-registry', config.imageRegistry);
    const network = new Network(clusterName, {
      config: config.network,
      clusterName,
      logRetentionDays,
    });
    const eks = new EksCluster(clusterName, { config: config.cluster, network, logRetentionDays });
    cluster = eks;
    new PreviewAccess('preview-access', { cluster: eks, roleArns: config.cluster.previewRoleArns });
    new Karpenter(`${clusterName}-karpenter`, {
      config: config.cluster.karpenter,
      nodeDiskGb: config.cluster.nodeDiskGb,
      cluster: eks,
      network,
    });
    observability = monitoringFor(cluster);
    const clients = {
      production,
      network,
      clientSecurityGroupId: eks.securityGroupId,
      logRetentionDays,
    };
    const rds = new RdsPostgres(`rag-${stack}-postgres`, { config: config.postgres, ...clients });
    postgres = rds;
    const backupConfig = config.backups;
    backups = (qdrant, certManager) =>
      new PlatformBackups(`rag-${stack}-backups`, {
        certManager,
        config: backupConfig,
        production,
        cluster: eks,
        postgres: { ...rds.primary, backupRetentionDays: config.postgres.backupRetentionDays },
        qdrant: { apiKey: qdrant.apiKey, replicas: config.qdrant.replicas },
        vaultImage: config.vault.image,
        appImage: config.app.image,
      });
    redis = new ElastiCacheRedis(`rag-${stack}-redis`, { config: config.redis, ...clients });
    new LoadBalancerController('aws-load-balancer-controller', {
      cluster: eks,
      network,
      chartVersion: config.cluster.loadBalancerControllerChartVersion,
    });
    // Target-type ip: the ALB's nodes in the public subnets connect to the pods themselves.
    ingressFrom = { namespaces: [monitoringNamespace], cidrs: network.publicSubnetCidrs };
  }

  if (config.metricsServer.install)
    new MetricsServer('metrics-server', {
      config: config.metricsServer,
      cluster,
      highlyAvailable: config.environment !== 'dev',
    });

  const qdrant = new Qdrant('qdrant', {
    config: config.qdrant,
    cluster,
    monitoring: observability,
  });
  const certManager = new CertManager('cert-manager', {
    cluster,
    highlyAvailable: config.environment !== 'dev',
  });
  const backup = backups?.(qdrant, certManager);
  const logsAndTraces = new LogsAndTraces(
    'logs-traces',
    {
      config: config.telemetry,
      cluster,
      production,
      namespace: observability.namespace,
    },
    // After kube-prometheus-stack: its release stands on the monitoring Namespace and runs Grafana.
    { dependsOn: [observability.crdsInstalled] },
  );
  // The only user of the master login: the roles, their grants, Vault's and the exporters' logins
  // (catalog/database-roles.ts). Vault's database secrets engine manages the service's users with
  // its login, with this same password (the bootstrap re-applies it; no rotate-root).
  const vaultDatabasePassword = new random.RandomPassword('vault-database-admin', {
    length: 40,
    special: false,
  });
  const databaseBootstrap = new PostgresBootstrap('postgres-bootstrap', {
    cluster,
    namespace: appNamespace,
    podLabels: appLabels,
    admin: postgres.admin,
    passwords: { vaultAdmin: vaultDatabasePassword.result, exporter: postgres.exporterPassword },
  });
  // Static settings in Vault's KV; the database URLs are rendered from leased users instead.
  const secrets = {
    REDIS_URL: redis.url,
    QDRANT_API_KEY: qdrant.apiKey,
  };
  const vault = new Vault('vault', {
    config: config.vault,
    production,
    cluster,
    certManager,
    app: { namespace: appNamespace, serviceAccount: appServiceAccount },
    migrations: { namespace: appNamespace, serviceAccount: appMigrationServiceAccount },
    appSecrets: secrets,
    database: {
      host: postgres.dynamicUsers.primaryHost,
      port: postgres.port,
      name: postgres.dynamicUsers.database,
      admin: { username: databaseRoles.vaultAdmin, password: vaultDatabasePassword.result },
    },
    monitoring: observability,
    snapshotter: backup?.snapshotter,
  });
  const users = postgres.dynamicUsers;
  const leasedUrl = (role: string, hosts: pulumi.Input<string[]>) => ({
    path: vaultDatabaseCredsPath(role),
    template: pulumi
      .output(hosts)
      .apply((h) => databaseUrlTemplate(role, h, postgres.port, users.database, users.urlParams)),
  });
  // The serving pods' URLs name the hosts only: their login is the credentials file the Agent
  // renders again for every new user, which the service re-reads (DATABASE_CREDENTIALS_FILE).
  const hostUrl = (host: string) =>
    `postgres://${host}:${postgres.port}/${users.database}?${users.urlParams}`;
  const highlyAvailable = config.environment !== 'dev';
  const rollouts = new ArgoRollouts('argo-rollouts', {
    config: config.rollouts,
    cluster,
    highlyAvailable,
    monitoring: observability,
  });
  const keda = new Keda('keda', { config: config.keda, cluster, highlyAvailable });
  const app = new RagApp(serviceIdentity.service, {
    config: config.app,
    cluster,
    secretSettings: Object.keys(secrets),
    vault: {
      roles: { app: vaultAppRole, migrations: vaultMigrationRole },
      migrationServiceAccount: appMigrationServiceAccount,
      leased: {
        serving: {
          DATABASE_CREDENTIALS: {
            path: vaultDatabaseCredsPath(vaultAppRole),
            template: databaseCredentialsTemplate(vaultAppRole),
          },
          // Operators write it (runbooks/procedures/secret-rotation.md); production refuses to
          // start without it.
          API_KEY_PEPPER: {
            path: vaultOperatorSecretPath,
            template: operatorSecretTemplate('API_KEY_PEPPER'),
          },
          // Every JWT signing key and the signing kid in one file (their fields change with each
          // rotation); the service re-reads it whenever the Agent renders it anew.
          JWT_SIGNING_KEYS: { path: vaultOperatorSecretPath, template: jwtSigningKeysTemplate() },
        },
        migrations: {
          DATABASE_URL: leasedUrl(
            vaultMigrationRole,
            users.primaryHost.apply((h) => [h]),
          ),
        },
      },
      trust: (trustName, namespace, opts) => vault.trustIn(trustName, namespace, opts),
    },
    settings: {
      QDRANT_URL: qdrant.url,
      SERVICE_NAME: serviceIdentity.service,
      OTEL_EXPORTER_OTLP_ENDPOINT: logsAndTraces.otlpEndpoint,
      // The client address (rate limits, allow/deny lists) is what the proxy in front saw: the
      // ALB's nodes (the CIDRs admitted to the pods) on AWS, the one ingress-controller hop on dev.
      HTTP_TRUST_PROXY: ingressFrom.cidrs.length > 0 ? ingressFrom.cidrs.join(',') : '1',
    },
    servingSettings: {
      DATABASE_URL: users.primaryHost.apply(hostUrl),
      DATABASE_REPLICA_URLS: users.replicaHosts.apply((hosts) => hosts.map(hostUrl).join(',')),
    },
    egress: [
      { peers: postgres.egressPeers, port: postgres.port },
      { peers: redis.egressPeers, port: redis.port },
      { peers: qdrant.egressPeers, port: qdrant.port },
      { peers: vault.egressPeers, port: 8200 },
      { peers: logsAndTraces.tracePeers, port: logsAndTraces.tracePort },
    ],
    ingressFromNamespaces: ingressFrom.namespaces,
    ingressFromCidrs: ingressFrom.cidrs,
    // The migration Job runs only after the pre-migration snapshot is available.
    dependsOn: [vault.configured, databaseBootstrap.job, ...(backup ? [backup.preMigration] : [])],
    rollout: {
      config: config.rollouts,
      crdsInstalled: rollouts.crdsInstalled,
      analysis: artifacts.canaryAnalysis,
      prometheusUrl: observability.prometheusUrl,
    },
    workers: {
      config: config.ingestionWorkers,
      crdsInstalled: keda.crdsInstalled,
      prometheusUrl: observability.prometheusUrl,
    },
  });
  if (dnsZoneId) {
    new PublicDns('app-dns', {
      hostedZoneId: dnsZoneId,
      host: config.app.host,
      target: app.loadBalancerHostname,
    });
    // Every alert's dashboard_url names this host: it must resolve on the first deploy too.
    new PublicDns('grafana-dns', {
      hostedZoneId: dnsZoneId,
      host: config.observability.grafanaHost,
      target: observability.grafanaLoadBalancerHostname,
    });
  }
  new MetricsExporters('exporters', {
    cluster,
    monitoring: observability,
    namespace: observability.namespace,
    postgres: { targets: postgres.exporterTargets, password: postgres.exporterPassword },
    redis: { url: redis.url, host: redis.endpoint },
    publicUrl: app.url,
  });
  new PlatformNetworkPolicies('network-policies', {
    cluster,
    app: { namespace: appNamespace, pods: appLabels },
    ingressFrom,
    monitoring: { namespace: observability.namespace, installed: observability.crdsInstalled },
    vault: {
      namespace: vaultNamespace,
      installed: vault.installed,
      clients: backup ? [backup.snapshotterPods] : [],
    },
    certManager: { namespace: certManagerNamespace, installed: certManager.installed },
    qdrant: { namespace: qdrantNamespace, installed: qdrant.installed, port: qdrant.port },
    argoRollouts: { namespace: argoRolloutsNamespace, installed: rollouts.crdsInstalled },
    keda: { namespace: kedaNamespace, installed: keda.crdsInstalled },
    postgres: {
      peers: postgres.egressPeers,
      port: postgres.port,
      exporterRoles: postgres.exporterTargets.map((t) => t.role),
    },
    redis: { peers: redis.egressPeers, port: redis.port },
    inCluster: inClusterStores,
  });
  observability.monitorService(
    serviceIdentity.job,
    appNamespace,
    appLabels,
    app.serviceMonitorPort,
  );

  return {
    clusterName: cluster.name,
    kubeconfig: cluster.kubeconfig,
    databaseEndpoint: postgres.endpoint,
    databaseReplicaEndpoints: postgres.replicaEndpoints,
    redisEndpoint: redis.endpoint,
    appUrl: app.url,
    image: app.image,
    imageDigest: app.imageDigest,
  };
}
