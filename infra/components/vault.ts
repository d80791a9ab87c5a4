import { createHash } from 'node:crypto';
import * as aws from '@pulumi/aws';
import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import { scrapeJobs } from '../../catalog/metrics/scrape-jobs';
import { serviceIdentity } from '../../catalog/service-identity';
import type { StackConfig } from '../config/stack-config';
import {
  restrictedContainerSecurityContext,
  restrictedPodSecurityContext,
} from '../kubernetes/pod-security';
import { afterMonitoringCrds, type MonitoringCrds } from '../observability/monitoring-crds';
import type { ClusterHandle } from './cluster';

export interface VaultArgs {
  config: StackConfig['vault'];
  production: boolean;
  cluster: ClusterHandle;
  /** Where the service runs: the Kubernetes auth role is bound to exactly this account. */
  app: { namespace: string; serviceAccount: string };
  /** Settings the service reads from Vault (name -> secret value), written to its KV path. */
  appSecrets: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** Vault's ServiceMonitor needs the monitoring CRDs installed first. */
  monitoring: MonitoringCrds;
  /** The account the scheduled raft snapshots run as: it gets a role with the snapshot policy only. */
  snapshotter?: { namespace: string; serviceAccount: string };
}

export const vaultNamespace = 'vault';
export const vaultAppRole = serviceIdentity.service;
/** Kubernetes auth role (and policy) of the raft snapshot CronJob: reading a snapshot, nothing else. */
export const vaultSnapshotRole = 'raft-snapshot';
const kvMount = 'secret';
const appKvPath = `${serviceIdentity.service}/config`;
/** The KV v2 API path Vault Agent templates read (`<mount>/data/<path>`). */
export const vaultAppSecretPath = `${kvMount}/data/${appKvPath}`;
export const vaultAddress = `http://vault-active.${vaultNamespace}.svc:8200`;
/** The chart's headless Service: it lists every server pod, ready or not (sealed, standby). */
export const vaultInternalServiceLabels = {
  'app.kubernetes.io/name': 'vault',
  'app.kubernetes.io/instance': 'vault',
  'vault-internal': 'true',
};
export const vaultMetricsPath = '/v1/sys/metrics';
const adminTokenSecret = 'vault-admin-token';

/**
 * Vault in HA with integrated raft storage (auto-unsealed by KMS on AWS) and the Agent injector.
 * A configure Job sets up Kubernetes auth, a read-only policy and role for the service's
 * ServiceAccount, and writes the service's settings to KV; pods then get them as files rendered by
 * the injected Vault Agent (see RagApp).
 *
 * Initialising Vault is an operator's act (its recovery keys belong to people, not to this
 * program): the configure Job waits until the `vault-admin-token` Secret exists (README).
 */
export class Vault extends pulumi.ComponentResource {
  readonly egressPeers = [
    {
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': vaultNamespace } },
      podSelector: { matchLabels: { 'app.kubernetes.io/name': 'vault' } },
    },
  ];
  readonly configured: k8s.batch.v1.Job;
  /** The chart's release: the namespace's servers and injector exist once it is installed. */
  readonly installed: k8s.helm.v3.Release;

  constructor(name: string, args: VaultArgs, opts?: pulumi.ComponentResourceOptions) {
    super('rag-platform:vault:Vault', name, {}, opts);
    const { config, cluster } = args;
    const k8sOpts = { parent: this, provider: cluster.provider };
    const namespace = new k8s.core.v1.Namespace(
      name,
      { metadata: { name: vaultNamespace } },
      k8sOpts,
    );
    const ns = namespace.metadata.name;

    let seal: pulumi.Input<string> = '';
    let serviceAccountAnnotations: Record<string, pulumi.Input<string>> = {};
    if (cluster.serviceAccountRole) {
      const key = new aws.kms.Key(
        `${name}-unseal`,
        {
          description: `${name}: Vault auto-unseal`,
          enableKeyRotation: true,
          deletionWindowInDays: 30,
        },
        // Raft snapshots restore only into a Vault unsealed by this key: it outlives the stack.
        { parent: this, protect: args.production, retainOnDelete: true },
      );
      const role = cluster.serviceAccountRole(
        `${name}-unseal`,
        vaultNamespace,
        'vault',
        pulumi.jsonStringify({
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:DescribeKey'],
              Resource: key.arn,
            },
          ],
        }),
      );
      serviceAccountAnnotations = { 'eks.amazonaws.com/role-arn': role.arn };
      seal = pulumi.interpolate`seal "awskms" {\n  kms_key_id = "${key.keyId}"\n}\n`;
    }

    const raftConfig = pulumi.interpolate`ui = true
listener "tcp" {
  address = "[::]:8200"
  cluster_address = "[::]:8201"
  tls_disable = 1
  # Prometheus scrapes without a token; the endpoint exposes metrics only.
  telemetry {
    unauthenticated_metrics_access = true
  }
}
# Without a retention time Vault serves no Prometheus format; without disable_hostname every
# metric name would carry the pod name and no alert could select it.
telemetry {
  prometheus_retention_time = "60s"
  disable_hostname = true
}
storage "raft" {
  path = "/vault/data"
  retry_join {
    leader_api_addr = "http://vault-0.vault-internal:8200"
  }
}
${seal}service_registration "kubernetes" {}
`;

    const release = new k8s.helm.v3.Release(
      name,
      {
        name: 'vault',
        chart: 'vault',
        version: config.chartVersion,
        repositoryOpts: { repo: 'https://helm.releases.hashicorp.com' },
        namespace: ns,
        values: {
          global: { enabled: true },
          injector: { enabled: true, replicas: config.replicas > 1 ? 2 : 1 },
          server: {
            image: { repository: config.image.split(':')[0], tag: config.image.split(':')[1] },
            serviceAccount: { annotations: serviceAccountAnnotations },
            dataStorage: {
              enabled: true,
              size: `${config.storageGb}Gi`,
              storageClass: cluster.storageClassName,
            },
            auditStorage: {
              enabled: true,
              size: `${config.storageGb}Gi`,
              storageClass: cluster.storageClassName,
            },
            ha: {
              enabled: true,
              replicas: config.replicas,
              raft: { enabled: true, setNodeId: true, config: raftConfig },
              // The chart renders maxUnavailable 0 for a single server: a budget no node drain passes.
              disruptionBudget: { enabled: config.replicas > 1 },
            },
            resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { memory: '512Mi' } },
          },
        },
      },
      k8sOpts,
    );
    this.installed = release;

    // Every server pod is a target (through the headless Service, which publishes not-ready
    // addresses): a sealed or standby server is scraped too, and one that stops answering shows
    // as `up == 0` instead of disappearing from the active Service.
    new k8s.apiextensions.CustomResource(
      `${name}-metrics`,
      {
        apiVersion: 'monitoring.coreos.com/v1',
        kind: 'ServiceMonitor',
        metadata: { name: 'vault', namespace: ns },
        spec: {
          selector: { matchLabels: vaultInternalServiceLabels },
          namespaceSelector: { matchNames: [vaultNamespace] },
          endpoints: [
            {
              port: 'http',
              path: vaultMetricsPath,
              params: { format: ['prometheus'] },
              interval: '30s',
              relabelings: [
                { targetLabel: 'job', replacement: scrapeJobs.vault },
                // Alerts name the server (vault-0), not its pod IP.
                { sourceLabels: ['__meta_kubernetes_pod_name'], targetLabel: 'instance' },
              ],
            },
          ],
        },
      },
      afterMonitoringCrds(args.monitoring, { ...k8sOpts, dependsOn: [release] }),
    );

    const appSecrets = new k8s.core.v1.Secret(
      `${name}-app-settings`,
      {
        metadata: { name: `${serviceIdentity.service}-settings`, namespace: ns },
        stringData: pulumi.secret(args.appSecrets),
      },
      k8sOpts,
    );
    const configure = configureScript(args.app, args.snapshotter);
    const script = new k8s.core.v1.ConfigMap(
      `${name}-configure`,
      {
        metadata: { name: 'vault-configure', namespace: ns },
        data: { 'configure.sh': configure },
      },
      k8sOpts,
    );
    const account = new k8s.core.v1.ServiceAccount(
      `${name}-configure`,
      { metadata: { name: 'vault-configure', namespace: ns } },
      k8sOpts,
    );

    this.configured = new k8s.batch.v1.Job(
      `${name}-configure`,
      {
        metadata: { namespace: ns, labels: { 'app.kubernetes.io/name': 'vault-configure' } },
        spec: {
          backoffLimit: 20,
          activeDeadlineSeconds: 3600,
          template: {
            metadata: {
              labels: { 'app.kubernetes.io/name': 'vault-configure' },
              // A changed script changes the spec, so the Job is replaced and runs it again.
              annotations: {
                'rag-platform/configure-sha256': createHash('sha256')
                  .update(configure)
                  .digest('hex'),
              },
            },
            spec: {
              restartPolicy: 'OnFailure',
              serviceAccountName: account.metadata.name,
              // An unprivileged UID of its own (not the image's low `vault` UID 100): the script
              // writes only to /tmp (HOME) and reads mounted files, readable through fsGroup.
              securityContext: restrictedPodSecurityContext(10001),
              containers: [
                {
                  name: 'configure',
                  image: config.image,
                  command: ['/bin/sh', '/scripts/configure.sh'],
                  env: [
                    { name: 'VAULT_ADDR', value: vaultAddress },
                    { name: 'HOME', value: '/tmp' },
                  ],
                  resources: {
                    requests: { cpu: '50m', memory: '64Mi', 'ephemeral-storage': '16Mi' },
                    limits: { cpu: '200m', memory: '128Mi', 'ephemeral-storage': '128Mi' },
                  },
                  securityContext: restrictedContainerSecurityContext,
                  volumeMounts: [
                    { name: 'scripts', mountPath: '/scripts', readOnly: true },
                    { name: 'admin-token', mountPath: '/vault-admin', readOnly: true },
                    { name: 'settings', mountPath: '/settings', readOnly: true },
                    { name: 'tmp', mountPath: '/tmp' },
                  ],
                },
              ],
              volumes: [
                { name: 'scripts', configMap: { name: script.metadata.name } },
                // Not optional: the pod waits here until an operator has initialised Vault.
                { name: 'admin-token', secret: { secretName: adminTokenSecret } },
                { name: 'settings', secret: { secretName: appSecrets.metadata.name } },
                { name: 'tmp', emptyDir: {} },
              ],
            },
          },
        },
      },
      {
        ...k8sOpts,
        dependsOn: [release],
        customTimeouts: { create: '60m', update: '60m' },
        deleteBeforeReplace: true,
        replaceOnChanges: ['spec'],
      },
    );
    this.registerOutputs({});
  }
}

/** Idempotent: every step is an upsert, so re-running after a settings change is safe. */
function configureScript(
  app: { namespace: string; serviceAccount: string },
  snapshotter?: { namespace: string; serviceAccount: string },
): string {
  // `vault operator raft snapshot save` reads sys/storage/raft/snapshot; nothing else is granted.
  const snapshotRole = snapshotter
    ? `vault policy write ${vaultSnapshotRole} - <<'POLICY'
path "sys/storage/raft/snapshot" {
  capabilities = ["read"]
}
POLICY
vault write auth/kubernetes/role/${vaultSnapshotRole} \\
  bound_service_account_names=${snapshotter.serviceAccount} \\
  bound_service_account_namespaces=${snapshotter.namespace} \\
  token_policies=${vaultSnapshotRole} token_ttl=15m token_max_ttl=1h
`
    : '';
  return `#!/bin/sh
set -eu
VAULT_TOKEN="$(cat /vault-admin/token)"
export VAULT_TOKEN
until vault status >/dev/null 2>&1; do echo "waiting for an unsealed Vault at $VAULT_ADDR"; sleep 5; done
vault secrets list | grep -q '^${kvMount}/' || vault secrets enable -path=${kvMount} kv-v2
vault auth list | grep -q '^kubernetes/' || vault auth enable kubernetes
vault write auth/kubernetes/config kubernetes_host="https://kubernetes.default.svc:443"
vault policy write ${vaultAppRole} - <<'POLICY'
path "${vaultAppSecretPath}" {
  capabilities = ["read"]
}
POLICY
vault write auth/kubernetes/role/${vaultAppRole} \\
  bound_service_account_names=${app.serviceAccount} \\
  bound_service_account_namespaces=${app.namespace} \\
  token_policies=${vaultAppRole} token_ttl=1h token_max_ttl=4h
${snapshotRole}args=""
for f in /settings/*; do args="$args $(basename "$f")=@$f"; done
# shellcheck disable=SC2086
vault kv put ${kvMount}/${appKvPath} $args
echo "vault configured for ${app.namespace}/${app.serviceAccount}"
`;
}
