import * as path from 'node:path';
import * as aws from '@pulumi/aws';
import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import * as vault from '@pulumi/vault';
import {
  loginCreationStatements,
  loginRevocationStatements,
  type DatabaseGroup,
} from '../../catalog/database-roles';
import { scrapeJobs } from '../../catalog/metrics/scrape-jobs';
import { serviceIdentity } from '../../catalog/service-identity';
import type { StackConfig } from '../config/stack-config';
import { afterMonitoringCrds, type MonitoringCrds } from '../observability/monitoring-crds';
import { internalCaIssuer, type CertManager } from './cert-manager';
import type { ClusterHandle } from './cluster';

/** A workload that logs in to Vault through the Kubernetes auth method. */
export interface VaultClient {
  namespace: string;
  serviceAccount: string;
}

/** What Vault's database secrets engine connects to (its users join catalog/database-roles.ts's groups). */
export interface VaultDatabase {
  /** The primary itself (not a pooler: RDS Proxy admits only users it holds a secret for). */
  host: pulumi.Input<string>;
  port: number;
  name: string;
  /**
   * The login Vault manages users with: CREATEROLE, ADMIN OPTION on the group roles, member of
   * pg_signal_backend (revocation ends a user's sessions). Created by the postgres-bootstrap Job
   * with the master user, with this password.
   */
  admin: { username: string; password: pulumi.Input<string> };
}

export interface VaultArgs {
  config: StackConfig['vault'];
  production: boolean;
  cluster: ClusterHandle;
  /** Issues Vault's serving certificate and the CA bundle its clients verify it with. */
  certManager: CertManager;
  /** The service's API and worker pods: read their settings and the service's DB credentials. */
  app: VaultClient;
  /** The migration Job's account: the migration role's DB credentials, nothing else. */
  migrations: VaultClient;
  /** Static settings the service reads from Vault (name -> secret value), written to its KV path. */
  appSecrets: pulumi.Input<Record<string, pulumi.Input<string>>>;
  database: VaultDatabase;
  /** Vault's ServiceMonitor needs the monitoring CRDs installed first. */
  monitoring: MonitoringCrds;
  /** The account the scheduled raft snapshots run as: it gets a role with the snapshot policy only. */
  snapshotter?: VaultClient;
}

export const vaultNamespace = 'vault';
export const vaultAppRole = serviceIdentity.service;
/** Kubernetes auth role (and policy) of the migration Job. */
export const vaultMigrationRole = `${serviceIdentity.service}-migrate`;
/** Kubernetes auth role (and policy) of the raft snapshot CronJob: reading a snapshot, nothing else. */
export const vaultSnapshotRole = 'raft-snapshot';
/**
 * The policy the deploying token holds. Its text lives in infra/vault and only the bootstrap writes
 * it (with the root token, before revoking it): the policy denies the deployer its own policy, so
 * no deploy can widen what deploys may do.
 */
export const vaultDeployerPolicy = 'deployer';
/**
 * Deploys log in as the Kubernetes auth role `deployer` with a short-lived token of this
 * ServiceAccount (`kubectl create token`): no Vault token outlives a deploy, and creating the
 * ServiceAccount token already takes cluster-admin.
 */
export const vaultDeployerServiceAccount = 'vault-deployer';
export const vaultDeployerPolicyFile = path.join(__dirname, '../vault/deployer-policy.hcl');
const kvMount = 'secret';
const appKvPath = `${serviceIdentity.service}/config`;
/**
 * Secrets operators write and rotate by hand (API key pepper, JWT signing keys): never in the
 * program or its state, so `pulumi up` neither holds nor reverts them.
 */
export const vaultOperatorSecretPath = `${kvMount}/data/${serviceIdentity.service}/keys`;
/** The KV v2 API path Vault Agent templates read (`<mount>/data/<path>`). */
export const vaultAppSecretPath = `${kvMount}/data/${appKvPath}`;
export const vaultDatabaseMount = 'database';
const databaseConnection = serviceIdentity.service;
/** Where a database role's dynamic credentials are read (a lease per read). */
export const vaultDatabaseCredsPath = (role: string) => `${vaultDatabaseMount}/creds/${role}`;
/** The active server, by the name its certificate carries. */
export const vaultActiveHost = `vault-active.${vaultNamespace}.svc`;
export const vaultAddress = `https://${vaultActiveHost}:8200`;
/** The chart's headless Service: it lists every server pod, ready or not (sealed, standby). */
export const vaultInternalServiceLabels = {
  'app.kubernetes.io/name': 'vault',
  'app.kubernetes.io/instance': 'vault',
  'vault-internal': 'true',
};
export const vaultMetricsPath = '/v1/sys/metrics';
/** The server's certificate, key and CA (cert-manager's Secret), mounted by the chart. */
export const vaultTlsSecret = 'vault-tls';
const tlsDir = `/vault/userconfig/${vaultTlsSecret}`;
/**
 * The Secret with `ca.crt` every client namespace holds (cert-manager issues one per namespace):
 * Vault Agent mounts it at /vault/tls (`tls-secret` annotation), CronJobs mount it themselves.
 */
export const vaultCaSecret = 'vault-ca';
export const vaultAgentCaCert = '/vault/tls/ca.crt';
/** The file audit device's log on the chart's audit volume (server.auditStorage). */
export const vaultAuditLog = '/vault/audit/audit.log';
/** Image refs of what the chart runs besides the server (tag for people, digest for the node). */
export const vaultInjectorImage = {
  repository: 'hashicorp/vault-k8s',
  tag: '1.7.2@sha256:3dd30a9ac5909d17555480f51be734dfb719a323409f06cffe8b48cdaf6237d2',
};

/** `repo:tag@sha256:...` -> the chart's repository and tag (the digest rides with the tag). */
export function splitImage(ref: string): { repository: string; tag: string } {
  const at = ref.indexOf('@');
  const name = at === -1 ? ref : ref.slice(0, at);
  const colon = name.lastIndexOf(':');
  if (colon === -1 || name.lastIndexOf('/') > colon) throw new Error(`${ref} has no tag`);
  return { repository: name.slice(0, colon), tag: ref.slice(colon + 1) };
}

/**
 * Vault in HA with integrated raft storage (auto-unsealed by KMS on AWS) and the Agent injector,
 * TLS on every listener (cert-manager), and its configuration as code (`VaultConfiguration`).
 *
 * Initialising Vault is an operator's act (its recovery keys belong to people, not to this
 * program). No token is stored anywhere by the program: the bootstrap creates the deployer's token
 * and revokes the root token (runbooks/procedures/bootstrap-vault.md); `pulumi up` gets that token
 * from its environment.
 */
export class Vault extends pulumi.ComponentResource {
  readonly egressPeers = [
    {
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': vaultNamespace } },
      podSelector: { matchLabels: { 'app.kubernetes.io/name': 'vault' } },
    },
  ];
  /** The chart's release: the namespace's servers and injector exist once it is installed. */
  readonly installed: k8s.helm.v3.Release;
  /** Everything Vault holds for its clients, configured: what a client's first pod waits for. */
  readonly configured: VaultConfiguration;
  private readonly certManager: CertManager;

  constructor(name: string, args: VaultArgs, opts?: pulumi.ComponentResourceOptions) {
    super('rag-platform:vault:Vault', name, {}, opts);
    const { config, cluster } = args;
    this.certManager = args.certManager;
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

    // Every name a client reaches a server by: the Services, each pod through the headless
    // Service (raft joins, Prometheus), and loopback for the CLI inside the pod (the chart's
    // VAULT_ADDR is https://127.0.0.1:8200 with TLS on).
    const serverNames = ['vault', 'vault-active', 'vault-standby', 'vault-internal'].flatMap(
      (svc) => [svc, `${svc}.${vaultNamespace}.svc`, `${svc}.${vaultNamespace}.svc.cluster.local`],
    );
    const certificate = new k8s.apiextensions.CustomResource(
      `${name}-tls`,
      {
        apiVersion: 'cert-manager.io/v1',
        kind: 'Certificate',
        metadata: { name: vaultTlsSecret, namespace: ns },
        spec: {
          secretName: vaultTlsSecret,
          commonName: vaultActiveHost,
          dnsNames: [
            ...serverNames,
            '*.vault-internal',
            `*.vault-internal.${vaultNamespace}.svc`,
            `*.vault-internal.${vaultNamespace}.svc.cluster.local`,
          ],
          ipAddresses: ['127.0.0.1'],
          // Vault reads its certificate at start and on SIGHUP: a renewal takes effect at the next
          // restart or `kill -HUP` (runbooks/procedures/secret-rotation.md), well before expiry.
          duration: '2160h',
          renewBefore: '720h',
          usages: ['server auth', 'client auth'],
          privateKey: { algorithm: 'ECDSA', size: 256, rotationPolicy: 'Always' },
          issuerRef: { name: internalCaIssuer, kind: 'ClusterIssuer', group: 'cert-manager.io' },
        },
      },
      { ...k8sOpts, dependsOn: [args.certManager.issuer] },
    );

    const joins = Array.from(
      { length: config.replicas },
      (_, i) => `  retry_join {
    leader_api_addr = "https://vault-${i}.vault-internal:8200"
    leader_ca_cert_file = "${tlsDir}/ca.crt"
  }
`,
    ).join('');
    const raftConfig = pulumi.interpolate`ui = true
listener "tcp" {
  address = "[::]:8200"
  cluster_address = "[::]:8201"
  tls_disable = 0
  tls_cert_file = "${tlsDir}/tls.crt"
  tls_key_file = "${tlsDir}/tls.key"
  tls_min_version = "tls12"
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
${joins}}
${seal}service_registration "kubernetes" {}
`;

    const server = splitImage(config.image);
    const release = new k8s.helm.v3.Release(
      name,
      {
        name: 'vault',
        chart: 'vault',
        version: config.chartVersion,
        repositoryOpts: { repo: 'https://helm.releases.hashicorp.com' },
        namespace: ns,
        values: {
          // TLS on: the chart names its ports https, sets VAULT_ADDR=https://127.0.0.1:8200 and
          // the injector's default Vault address to https.
          global: { enabled: true, tlsDisable: false },
          injector: {
            enabled: true,
            replicas: config.replicas > 1 ? 2 : 1,
            image: vaultInjectorImage,
            agentImage: server,
          },
          server: {
            image: server,
            serviceAccount: { annotations: serviceAccountAnnotations },
            // Mounted at /vault/userconfig/vault-tls; the CLI in the pods trusts its CA.
            extraVolumes: [{ type: 'secret', name: vaultTlsSecret }],
            extraEnvironmentVars: { VAULT_CACERT: `${tlsDir}/ca.crt` },
            dataStorage: {
              enabled: true,
              size: `${config.storageGb}Gi`,
              storageClass: cluster.storageClassName,
            },
            // The file audit device writes here (mounted at /vault/audit).
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
      // The servers cannot start without their certificate's Secret.
      { ...k8sOpts, dependsOn: [certificate] },
    );
    this.installed = release;

    // Every server pod is a target (through the headless Service, which publishes not-ready
    // addresses): a sealed or standby server is scraped too, and one that stops answering shows
    // as `up == 0` instead of disappearing from the active Service. Over TLS, verified against
    // the internal CA with the name every server's certificate carries.
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
              port: 'https',
              scheme: 'https',
              tlsConfig: {
                ca: { secret: { name: vaultTlsSecret, key: 'ca.crt' } },
                serverName: `vault-internal.${vaultNamespace}.svc`,
              },
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

    // Holds no permission in the cluster: its tokens only prove "the deployer" to Vault.
    new k8s.core.v1.ServiceAccount(
      `${name}-deployer`,
      {
        metadata: { name: vaultDeployerServiceAccount, namespace: ns },
        automountServiceAccountToken: false,
      },
      k8sOpts,
    );

    this.configured = new VaultConfiguration(
      `${name}-config`,
      {
        app: args.app,
        migrations: args.migrations,
        snapshotter: args.snapshotter,
        appSecrets: args.appSecrets,
        database: args.database,
        deployAddress: config.deployAddress,
        after: [release],
      },
      { parent: this },
    );
    this.registerOutputs({});
  }

  /**
   * The CA bundle Secret (`vault-ca`) in a client namespace, issued by cert-manager: pods in that
   * namespace verify Vault with its `ca.crt`. `opts` must order it after the namespace.
   */
  trustIn(
    name: string,
    namespace: pulumi.Input<string>,
    opts: pulumi.CustomResourceOptions,
  ): k8s.apiextensions.CustomResource {
    return this.certManager.trustBundle(name, namespace, vaultCaSecret, opts);
  }
}

/** Vault Agent annotations for a pod that logs in as `role` and trusts Vault by `vault-ca`. */
export function vaultAgentAnnotations(role: string): Record<string, string> {
  return {
    'vault.hashicorp.com/agent-inject': 'true',
    'vault.hashicorp.com/role': role,
    'vault.hashicorp.com/service': vaultAddress,
    'vault.hashicorp.com/tls-secret': vaultCaSecret,
    'vault.hashicorp.com/ca-cert': vaultAgentCaCert,
    'vault.hashicorp.com/tls-server-name': vaultActiveHost,
  };
}

/**
 * A Vault Agent template rendering a libpq URL per host with a dynamic user's credentials. Every
 * template naming the same path shares one lease (the Agent de-duplicates dependencies), so the
 * primary's and the replicas' URLs carry the same user, which replicates with the primary.
 */
export function databaseUrlTemplate(
  role: string,
  hosts: string[],
  port: number,
  database: string,
  params: string,
): string {
  const urls = hosts
    .map(
      (h) =>
        `postgres://{{ .Data.username }}:{{ .Data.password }}@${h}:${port}/${database}?${params}`,
    )
    .join(',');
  return `{{- with secret "${vaultDatabaseCredsPath(role)}" -}}${urls}{{- end -}}`;
}

/**
 * A Vault Agent template rendering a dynamic user's login as JSON `{"username", "password", ...}`,
 * which the service reads from DATABASE_CREDENTIALS_FILE and re-reads whenever the Agent renders
 * the next user (app/src/stores/postgres/database-credentials.ts): the hosts stay in plain
 * settings, so a rotation changes nothing but this file.
 */
export function databaseCredentialsTemplate(role: string): string {
  return `{{- with secret "${vaultDatabaseCredsPath(role)}" -}}{{ .Data | toJSON }}{{- end -}}`;
}

/** A Vault Agent template rendering one field of the operators' secret (vaultOperatorSecretPath). */
export function operatorSecretTemplate(field: string): string {
  return `{{- with secret "${vaultOperatorSecretPath}" -}}{{ index .Data.data "${field}" }}{{- end -}}`;
}

/** The operators' secret's fields that are JWT signing keys (`jwt-<kid>.pem`) or the signing kid. */
export const jwtKeyFieldPattern = '^jwt-';

/**
 * A Vault Agent template rendering every JWT signing key of the operators' secret, and the signing
 * kid, as ONE file (the service's JWT_SIGNING_KEYS_FILE, app/src/security/jwt/key-bundle.ts): the
 * kids change with every rotation, which a fixed set of one-file templates cannot follow. It is the
 * JSON object of the secret's `jwt-` fields as stored, and nothing else of it (not the pepper):
 * consul-template's `scratch` map collects them (a new scratch per render, so a removed key leaves
 * the file) and `toJSON` writes it with sorted keys. A secret without any `jwt-` field renders
 * `null`, which the service refuses. infra/test/app-settings.test.ts renders it with consul-template.
 */
export function jwtSigningKeysTemplate(): string {
  return (
    `{{- with secret "${vaultOperatorSecretPath}" -}}` +
    `{{- range $field, $value := .Data.data -}}` +
    `{{- if $field | regexMatch "${jwtKeyFieldPattern}" -}}{{- scratch.MapSet "jwt" $field $value -}}{{- end -}}` +
    `{{- end -}}` +
    `{{- scratch.Get "jwt" | toJSON -}}` +
    `{{- end -}}`
  );
}

export interface VaultConfigurationArgs {
  app: VaultClient;
  migrations: VaultClient;
  snapshotter?: VaultClient;
  appSecrets: pulumi.Input<Record<string, pulumi.Input<string>>>;
  database: VaultDatabase;
  /** Where `pulumi up` reaches Vault (a port-forward to the active server). */
  deployAddress: string;
  /** What must exist first (the servers): a component's dependsOn does not reach its children. */
  after: pulumi.Resource[];
}

/** Minutes a dynamic credential of the service lives unless renewed, and at most (hours). */
export const serviceCredentialTtl = { defaultSeconds: 3600, maxSeconds: 24 * 3600 };
/** The migration Job's: enough for the longest migration, gone soon after. */
export const migrationCredentialTtl = { defaultSeconds: 3600, maxSeconds: 2 * 3600 };

/**
 * Vault's configuration as code: audit devices, the Kubernetes auth method with one role per
 * workload, their policies, the service's static settings in KV v2, and the database secrets
 * engine issuing the service's and the migrations' Postgres users.
 *
 * The provider's token is never in the program nor in the cluster: it reads VAULT_TOKEN (and
 * VAULT_CACERT) from the environment of `pulumi up`, a token of the `deployer` policy (see the
 * bootstrap), and works with a child token of it that expires after 20 minutes.
 *
 * Why dynamic credentials and not RDS IAM authentication: IAM tokens are valid 15 minutes and must
 * be minted per connection by code holding an AWS role (an SDK in the service and in every
 * exporter or Job), RDS caps IAM connection attempts per second, and the dev stack (CloudNativePG)
 * has no IAM at all. Vault's users work the same on every stack, expire on their own, are revoked
 * (sessions ended) when their lease ends, and are files the service re-reads, like its other secrets.
 */
export class VaultConfiguration extends pulumi.ComponentResource {
  constructor(name: string, args: VaultConfigurationArgs, opts?: pulumi.ComponentResourceOptions) {
    super('rag-platform:vault:VaultConfiguration', name, {}, opts);
    const provider = new vault.Provider(
      `${name}-provider`,
      {
        address: args.deployAddress,
        // The port-forwarded address is not a name on the certificate: verify the one it is.
        tlsServerName: vaultActiveHost,
        maxLeaseTtlSeconds: 1200,
      },
      { parent: this },
    );
    const opts2 = { parent: this, provider, dependsOn: args.after };

    // Two file devices: one on the audit volume (the durable copy), one to stdout, which the log
    // collector ships to Loki with every pod's lines. Vault refuses a request that no device can
    // record, so either alone keeps Vault answering.
    const auditFile = new vault.Audit(
      `${name}-audit-file`,
      {
        type: 'file',
        path: 'file',
        description: 'Audit log on the audit volume',
        options: { file_path: vaultAuditLog, mode: '0600', log_raw: 'false' },
      },
      opts2,
    );
    const auditStdout = new vault.Audit(
      `${name}-audit-stdout`,
      {
        type: 'file',
        path: 'stdout',
        description: 'Audit log to stdout, shipped to Loki by the log collector',
        options: { file_path: 'stdout', log_raw: 'false' },
      },
      opts2,
    );
    // Nothing is configured before every request to Vault is recorded.
    const audited = { ...opts2, dependsOn: [...args.after, auditFile, auditStdout] };

    const kubernetes = new vault.AuthBackend(
      `${name}-kubernetes`,
      { type: 'kubernetes', path: 'kubernetes', description: 'Pods by ServiceAccount' },
      audited,
    );
    // Vault runs in the cluster: it reviews tokens with its own ServiceAccount and the cluster CA.
    const kubernetesConfig = new vault.kubernetes.AuthBackendConfig(
      `${name}-kubernetes`,
      { backend: kubernetes.path, kubernetesHost: 'https://kubernetes.default.svc:443' },
      audited,
    );

    const kv = new vault.Mount(
      `${name}-kv`,
      { path: kvMount, type: 'kv', options: { version: '2' }, description: 'Static settings' },
      audited,
    );
    new vault.kv.SecretV2(
      `${name}-app-settings`,
      {
        mount: kv.path,
        name: appKvPath,
        dataJson: pulumi.secret(pulumi.jsonStringify(pulumi.output(args.appSecrets))),
      },
      audited,
    );

    const db = args.database;
    const databaseMount = new vault.Mount(
      `${name}-database`,
      { path: vaultDatabaseMount, type: 'database', description: 'Postgres users on demand' },
      audited,
    );
    const serviceDbRole = serviceIdentity.service;
    const migrationDbRole = vaultMigrationRole;
    const connection = new vault.database.SecretBackendConnection(
      `${name}-postgres`,
      {
        backend: databaseMount.path,
        name: databaseConnection,
        allowedRoles: [serviceDbRole, migrationDbRole],
        // The Vault image trusts no RDS CA: encrypted, unverified, as the replicas' URLs.
        postgresql: {
          connectionUrl: pulumi.interpolate`postgresql://{{username}}:{{password}}@${db.host}:${db.port}/${db.name}?sslmode=require`,
          username: db.admin.username,
          // The program's password, which the postgres-bootstrap Job also sets on the login: the
          // two stay in step (no rotate-root, which the next bootstrap run would undo).
          password: db.admin.password,
          passwordAuthentication: 'scram-sha-256',
        },
        // The bootstrap creates the admin login after the first `pulumi up` can reach Vault.
        verifyConnection: false,
      },
      audited,
    );
    // The catalog's statements, which the local test services run too: the service's users are
    // members of its DML role; a migration user acts as the migrator (SET role), so what it
    // creates outlives it; revocation ends a user's sessions first.
    const statements = (group: DatabaseGroup) => ({
      creationStatements: loginCreationStatements(group),
      revocationStatements: loginRevocationStatements(),
      renewStatements: [`ALTER ROLE "{{name}}" VALID UNTIL '{{expiration}}'`],
    });
    new vault.database.SecretBackendRole(
      `${name}-db-service`,
      {
        backend: databaseMount.path,
        name: serviceDbRole,
        dbName: connection.name,
        ...statements('service'),
        defaultTtl: serviceCredentialTtl.defaultSeconds,
        maxTtl: serviceCredentialTtl.maxSeconds,
      },
      audited,
    );
    new vault.database.SecretBackendRole(
      `${name}-db-migrate`,
      {
        backend: databaseMount.path,
        name: migrationDbRole,
        dbName: connection.name,
        ...statements('migrator'),
        defaultTtl: migrationCredentialTtl.defaultSeconds,
        maxTtl: migrationCredentialTtl.maxSeconds,
      },
      audited,
    );

    const policy = (policyName: string, grants: Record<string, string[]>) =>
      new vault.Policy(
        `${name}-policy-${policyName}`,
        {
          name: policyName,
          policy: Object.entries(grants)
            .map(
              ([p, caps]) =>
                `path "${p}" {\n  capabilities = [${caps.map((c) => `"${c}"`).join(', ')}]\n}\n`,
            )
            .join(''),
        },
        audited,
      );
    const loginRole = (
      roleName: string,
      client: VaultClient,
      policyName: pulumi.Input<string>,
      ttl: { token: number; max: number },
    ) =>
      new vault.kubernetes.AuthBackendRole(
        `${name}-role-${roleName}`,
        {
          backend: kubernetes.path,
          roleName,
          boundServiceAccountNames: [client.serviceAccount],
          boundServiceAccountNamespaces: [client.namespace],
          tokenPolicies: [policyName],
          tokenTtl: ttl.token,
          tokenMaxTtl: ttl.max,
        },
        { ...audited, dependsOn: [...audited.dependsOn, kubernetesConfig] },
      );
    const role = (
      roleName: string,
      client: VaultClient,
      grants: Record<string, string[]>,
      ttl: { token: number; max: number },
    ) => loginRole(roleName, client, policy(roleName, grants).name, ttl);
    const hour = 3600;
    role(
      vaultAppRole,
      args.app,
      {
        [vaultAppSecretPath]: ['read'],
        [vaultOperatorSecretPath]: ['read'],
        [vaultDatabaseCredsPath(serviceDbRole)]: ['read'],
      },
      { token: hour, max: 4 * hour },
    );
    role(
      vaultMigrationRole,
      args.migrations,
      {
        [vaultAppSecretPath]: ['read'],
        [vaultDatabaseCredsPath(migrationDbRole)]: ['read'],
      },
      { token: 15 * 60, max: 2 * hour },
    );
    // The bootstrap wrote the deployer policy (never this program, see vaultDeployerPolicy).
    loginRole(
      vaultDeployerPolicy,
      { namespace: vaultNamespace, serviceAccount: vaultDeployerServiceAccount },
      vaultDeployerPolicy,
      { token: 30 * 60, max: hour },
    );
    // `vault operator raft snapshot save` reads sys/storage/raft/snapshot; nothing else is granted.
    if (args.snapshotter)
      role(
        vaultSnapshotRole,
        args.snapshotter,
        { 'sys/storage/raft/snapshot': ['read'] },
        { token: 15 * 60, max: hour },
      );
    this.registerOutputs({});
  }
}
