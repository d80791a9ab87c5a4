import * as aws from '@pulumi/aws';
import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import type { AwsStackConfig } from '../config/stack-config';
import {
  restrictedContainerSecurityContext,
  restrictedNamespaceLabels,
  restrictedPodSecurityContext,
} from '../kubernetes/pod-security';
import type { EksCluster } from './cluster';
import type { CertManager } from './cert-manager';
import { PrivateBucket } from './private-bucket';
import { qdrantNamespace } from './qdrant';
import {
  vaultActiveHost,
  vaultAddress,
  vaultCaSecret,
  vaultNamespace,
  vaultSnapshotRole,
} from './vault';

export interface PlatformBackupsArgs {
  config: AwsStackConfig['backups'];
  production: boolean;
  cluster: EksCluster;
  /** Issues the Secret with Vault's CA the snapshot CronJob verifies Vault with. */
  certManager: CertManager;
  /** The RDS primary and how long its automated backups (PITR) are kept. */
  postgres: {
    arn: pulumi.Input<string>;
    identifier: pulumi.Input<string>;
    backupRetentionDays: number;
  };
  qdrant: { apiKey: pulumi.Input<string>; replicas: number };
  /** The Vault image (its CLI takes the raft snapshot). */
  vaultImage: string;
  /** The service image whose migrations the pre-migration snapshot precedes. */
  appImage: string;
}

export const backupsNamespace = 'backups';
/** Namespaces whose volumes AWS Backup selects (by the tag the EBS CSI driver puts on each volume). */
export const backedUpVolumeNamespaces = [qdrantNamespace, vaultNamespace] as const;
/** The EBS CSI driver's tag naming the PVC's namespace on every volume it provisions. */
export const pvcNamespaceTag = 'kubernetes.io/created-for/pvc/namespace';
export const backupJobs = {
  qdrant: { cronJob: 'qdrant-snapshot', serviceAccount: 'qdrant-snapshot', prefix: 'qdrant' },
  vault: { cronJob: 'vault-snapshot', serviceAccount: 'vault-snapshot', prefix: 'vault' },
  preMigration: { job: 'pre-migration-snapshot', serviceAccount: 'pre-migration-snapshot' },
} as const;
/** Manual RDS snapshots the pre-migration Job takes are named `<primary>-pre-migrate-<UTC time>`. */
export const preMigrationSnapshotInfix = '-pre-migrate-';

const uid = 10001;
const qdrantPort = 6333;

/**
 * Backups of every stateful component of an AWS stack:
 * - AWS Backup: a daily plan into a KMS-encrypted vault, copied to a vault in another region, over
 *   the RDS primary and the Qdrant and Vault volumes; both vaults are locked and deny deletes.
 * - RDS: automated backups (PITR) replicated to the other region and kept after a delete.
 * - Qdrant collection snapshots and Vault raft snapshots on a schedule, streamed to an S3 bucket
 *   (Object Lock) by CronJobs whose IRSA roles can only write their own prefix.
 * - A manual RDS snapshot before every migration: the migration Job depends on `preMigration`.
 */
export class PlatformBackups extends pulumi.ComponentResource {
  /** Completes once the pre-migration RDS snapshot is available; a new image runs it again. */
  readonly preMigration: k8s.batch.v1.Job;
  readonly vaultName: pulumi.Output<string>;
  readonly copyVaultName: pulumi.Output<string>;
  readonly bucket: pulumi.Output<string>;
  readonly snapshotter = {
    namespace: backupsNamespace,
    serviceAccount: backupJobs.vault.serviceAccount,
  };
  /** The snapshot CronJob's pods, a client Vault's NetworkPolicy admits. */
  readonly snapshotterPods = {
    namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': backupsNamespace } },
    podSelector: { matchLabels: { 'app.kubernetes.io/name': backupJobs.vault.cronJob } },
  };

  constructor(name: string, args: PlatformBackupsArgs, opts?: pulumi.ComponentResourceOptions) {
    super('rag-platform:backups:PlatformBackups', name, {}, opts);
    const { config, production, cluster } = args;
    const parent = { parent: this };
    // Keys that decrypt backups and the vaults holding them outlive the stack: a destroyed stack
    // (or a replaced resource) must not take its own backups with it.
    const kept = { parent: this, protect: production, retainOnDelete: true };
    const awsConfig = new pulumi.Config('aws');
    const region = awsConfig.require('region');
    const copyRegion = new aws.Provider(
      `${name}-copy-region`,
      {
        region: config.copyRegion as aws.Region,
        defaultTags: awsConfig.getObject<aws.types.input.ProviderDefaultTags>('defaultTags'),
      },
      parent,
    );
    const keptInCopyRegion = { ...kept, provider: copyRegion };

    const keyArgs = (what: string) => ({
      description: `${name}: ${what}`,
      enableKeyRotation: true,
      deletionWindowInDays: 30,
    });
    const key = new aws.kms.Key(`${name}-key`, keyArgs('backup vault and backup bucket'), kept);
    const copyKey = new aws.kms.Key(
      `${name}-copy-key`,
      keyArgs(`cross-region backup copies in ${config.copyRegion}`),
      keptInCopyRegion,
    );

    const vault = new aws.backup.Vault(
      `${name}-vault`,
      { name: `${name}-vault`, kmsKeyArn: key.arn, forceDestroy: false },
      kept,
    );
    const copyVault = new aws.backup.Vault(
      `${name}-copy-vault`,
      { name: `${name}-copy-vault`, kmsKeyArn: copyKey.arn, forceDestroy: false },
      keptInCopyRegion,
    );
    for (const [v, provider, maxDays] of [
      [vault, undefined, config.retentionDays],
      [copyVault, copyRegion, config.copyRetentionDays],
    ] as const) {
      const suffix = v === vault ? 'vault' : 'copy-vault';
      // Recovery points are deleted by their lifecycle only: nobody's API call may do it early.
      new aws.backup.VaultPolicy(
        `${name}-${suffix}-deny-deletes`,
        {
          backupVaultName: v.name,
          policy: pulumi.jsonStringify({
            Version: '2012-10-17',
            Statement: [
              {
                Sid: 'DenyDeletingRecoveryPoints',
                Effect: 'Deny',
                Principal: '*',
                Action: [
                  'backup:DeleteRecoveryPoint',
                  'backup:UpdateRecoveryPointLifecycle',
                  'backup:DeleteBackupVault',
                ],
                Resource: '*',
              },
            ],
          }),
        },
        { parent: this, provider },
      );
      // Production's lock turns compliance-mode (immutable, even for the root user) after three
      // days; staging's stays governance-mode so the environment can still be torn down.
      new aws.backup.VaultLockConfiguration(
        `${name}-${suffix}-lock`,
        {
          backupVaultName: v.name,
          minRetentionDays: 7,
          maxRetentionDays: maxDays,
          ...(production ? { changeableForDays: 3 } : {}),
        },
        { parent: this, provider },
      );
    }

    const backupRole = new aws.iam.Role(
      `${name}-aws-backup`,
      {
        assumeRolePolicy: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { Service: 'backup.amazonaws.com' },
              Action: 'sts:AssumeRole',
            },
          ],
        }),
      },
      parent,
    );
    const backupPolicies = [
      'arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup',
      'arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores',
    ].map(
      (policyArn, i) =>
        new aws.iam.RolePolicyAttachment(
          `${name}-aws-backup-${i}`,
          { role: backupRole.name, policyArn },
          parent,
        ),
    );

    const plan = new aws.backup.Plan(
      `${name}-plan`,
      {
        name: `${name}-daily`,
        rules: [
          {
            ruleName: 'daily',
            targetVaultName: vault.name,
            schedule: config.schedule,
            startWindow: 60,
            completionWindow: 360,
            lifecycle: { deleteAfter: config.retentionDays },
            copyActions: [
              {
                destinationVaultArn: copyVault.arn,
                lifecycle: { deleteAfter: config.copyRetentionDays },
              },
            ],
          },
        ],
      },
      parent,
    );
    new aws.backup.Selection(
      `${name}-rds`,
      {
        name: `${name}-rds`,
        planId: plan.id,
        iamRoleArn: backupRole.arn,
        resources: [args.postgres.arn],
      },
      { parent: this, dependsOn: backupPolicies },
    );
    // Volumes are provisioned by the EBS CSI driver, which tags each with its claim's namespace:
    // the selection follows the StatefulSets' claims, whichever volumes they get.
    for (const namespace of backedUpVolumeNamespaces) {
      new aws.backup.Selection(
        `${name}-volumes-${namespace}`,
        {
          name: `${name}-volumes-${namespace}`,
          planId: plan.id,
          iamRoleArn: backupRole.arn,
          resources: ['arn:aws:ec2:*:*:volume/*'],
          conditions: [
            {
              stringEquals: [{ key: `aws:ResourceTag/${pvcNamespaceTag}`, value: namespace }],
            },
          ],
        },
        { parent: this, dependsOn: backupPolicies },
      );
    }

    // Point-in-time recovery in the other region, for the primary's whole retention.
    new aws.rds.InstanceAutomatedBackupsReplication(
      `${name}-rds-replication`,
      {
        sourceDbInstanceArn: args.postgres.arn,
        retentionPeriod: args.postgres.backupRetentionDays,
        kmsKeyId: copyKey.arn,
      },
      { parent: this, provider: copyRegion },
    );

    const bucket = new PrivateBucket(
      `${name}-snapshots`,
      {
        kmsKeyArn: key.arn,
        expireAfterDays: config.retentionDays,
        lockDays: Math.min(config.retentionDays, 7),
        protect: production,
      },
      parent,
    );

    const k8sOpts = { parent: this, provider: cluster.provider };
    const namespace = new k8s.core.v1.Namespace(
      name,
      { metadata: { name: backupsNamespace, labels: restrictedNamespaceLabels() } },
      k8sOpts,
    );
    const ns = namespace.metadata.name;

    const vaultTrust = args.certManager.trustBundle(`${name}-vault-ca`, ns, vaultCaSecret, {
      ...k8sOpts,
      dependsOn: [namespace],
    });

    // Nothing reaches these pods; they reach DNS, the AWS APIs (HTTPS), Qdrant and Vault only.
    new k8s.networking.v1.NetworkPolicy(
      `${name}-default-deny`,
      {
        metadata: { name: 'default-deny', namespace: ns },
        spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
      },
      k8sOpts,
    );
    const inNamespace = (n: string, app: string) => ({
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': n } },
      podSelector: { matchLabels: { 'app.kubernetes.io/name': app } },
    });
    new k8s.networking.v1.NetworkPolicy(
      `${name}-egress`,
      {
        metadata: { name: 'backup-egress', namespace: ns },
        spec: {
          podSelector: {},
          policyTypes: ['Egress'],
          egress: [
            {
              to: [
                {
                  namespaceSelector: {
                    matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' },
                  },
                  podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
                },
              ],
              ports: [
                { protocol: 'UDP', port: 53 },
                { protocol: 'TCP', port: 53 },
              ],
            },
            // S3, STS and RDS: VPC endpoints and the NAT gateways, both by HTTPS.
            { to: [{ ipBlock: { cidr: '0.0.0.0/0' } }], ports: [{ protocol: 'TCP', port: 443 }] },
            {
              to: [inNamespace(qdrantNamespace, 'qdrant')],
              ports: [{ protocol: 'TCP', port: qdrantPort }],
            },
            {
              to: [inNamespace(vaultNamespace, 'vault')],
              ports: [{ protocol: 'TCP', port: 8200 }],
            },
          ],
        },
      },
      k8sOpts,
    );

    const writeTo = (prefix: string) =>
      pulumi.jsonStringify({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: ['s3:PutObject', 's3:AbortMultipartUpload'],
            Resource: pulumi.interpolate`${bucket.arn}/${prefix}/*`,
          },
          { Effect: 'Allow', Action: ['kms:GenerateDataKey', 'kms:Decrypt'], Resource: key.arn },
        ],
      });
    const account = (sa: string, policy: pulumi.Input<string>) => {
      const role = cluster.serviceAccountRole(`${name}-${sa}`, backupsNamespace, sa, policy);
      return new k8s.core.v1.ServiceAccount(
        `${name}-${sa}`,
        {
          metadata: {
            name: sa,
            namespace: ns,
            annotations: { 'eks.amazonaws.com/role-arn': role.arn },
          },
        },
        k8sOpts,
      );
    };
    // arn:aws:rds:<region>:<account>:db:<id> -> the snapshots this Job names after the instance.
    const snapshotArn = pulumi
      .all([args.postgres.arn, args.postgres.identifier])
      .apply(([arn, id]) => {
        const [, partition, , arnRegion, accountId] = arn.split(':');
        return `arn:${partition}:rds:${arnRegion}:${accountId}:snapshot:${id}${preMigrationSnapshotInfix}*`;
      });
    const accounts = {
      qdrant: account(backupJobs.qdrant.serviceAccount, writeTo(backupJobs.qdrant.prefix)),
      vault: account(backupJobs.vault.serviceAccount, writeTo(backupJobs.vault.prefix)),
      preMigration: account(
        backupJobs.preMigration.serviceAccount,
        pulumi.jsonStringify({
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Action: ['rds:CreateDBSnapshot'],
              Resource: [args.postgres.arn, snapshotArn],
            },
            { Effect: 'Allow', Action: ['rds:DeleteDBSnapshot'], Resource: snapshotArn },
            {
              Effect: 'Allow',
              Action: ['rds:DescribeDBSnapshots', 'rds:DescribeDBInstances'],
              Resource: '*',
            },
          ],
        }),
      ),
    };

    const qdrantKey = new k8s.core.v1.Secret(
      `${name}-qdrant-api-key`,
      {
        metadata: { name: 'qdrant-api-key', namespace: ns },
        stringData: { 'api-key': pulumi.secret(args.qdrant.apiKey) },
      },
      k8sOpts,
    );
    const scripts = new k8s.core.v1.ConfigMap(
      `${name}-scripts`,
      {
        metadata: { name: 'backup-scripts', namespace: ns },
        data: {
          'qdrant-snapshot.sh': qdrantSnapshotScript,
          'vault-snapshot.sh': vaultSnapshotScript,
          'upload.sh': uploadScript,
          'pre-migration-snapshot.sh': preMigrationSnapshotScript,
        },
      },
      k8sOpts,
    );

    const bucketEnv = [
      { name: 'BACKUP_BUCKET', value: bucket.bucket },
      { name: 'AWS_REGION', value: region },
      { name: 'HOME', value: '/work' },
    ];
    const resources = {
      requests: { cpu: '50m', memory: '128Mi', 'ephemeral-storage': '64Mi' },
      limits: { cpu: '500m', memory: '512Mi', 'ephemeral-storage': '2Gi' },
    };
    const container = (
      containerName: string,
      image: string,
      script: string,
      env: k8s.types.input.core.v1.EnvVar[],
    ): k8s.types.input.core.v1.Container => ({
      name: containerName,
      image,
      command: ['/bin/sh', `/scripts/${script}`],
      env,
      resources,
      securityContext: restrictedContainerSecurityContext,
      volumeMounts: [
        { name: 'scripts', mountPath: '/scripts', readOnly: true },
        { name: 'work', mountPath: '/work' },
      ],
    });
    const podSpec = (
      sa: k8s.core.v1.ServiceAccount,
      containers: k8s.types.input.core.v1.Container[],
      initContainers: k8s.types.input.core.v1.Container[] = [],
    ): k8s.types.input.core.v1.PodSpec => ({
      serviceAccountName: sa.metadata.name,
      restartPolicy: 'Never',
      securityContext: restrictedPodSecurityContext(uid),
      initContainers,
      containers,
      volumes: [
        { name: 'scripts', configMap: { name: scripts.metadata.name } },
        { name: 'work', emptyDir: { sizeLimit: '2Gi' } },
        // Only ca.crt: the client key of the same Secret is not this pod's to read.
        {
          name: 'vault-ca',
          secret: { secretName: vaultCaSecret, items: [{ key: 'ca.crt', path: 'ca.crt' }] },
        },
      ],
    });
    const cronJob = (
      cronName: string,
      schedule: string,
      spec: k8s.types.input.core.v1.PodSpec,
      deps: pulumi.Resource[],
    ) =>
      new k8s.batch.v1.CronJob(
        `${name}-${cronName}`,
        {
          metadata: {
            name: cronName,
            namespace: ns,
            labels: { 'app.kubernetes.io/name': cronName },
          },
          spec: {
            schedule,
            timeZone: 'Etc/UTC',
            concurrencyPolicy: 'Forbid',
            startingDeadlineSeconds: 3600,
            successfulJobsHistoryLimit: 3,
            failedJobsHistoryLimit: 3,
            jobTemplate: {
              spec: {
                backoffLimit: 2,
                activeDeadlineSeconds: 3 * 3600,
                template: {
                  metadata: { labels: { 'app.kubernetes.io/name': cronName } },
                  spec,
                },
              },
            },
          },
        },
        { ...k8sOpts, dependsOn: deps },
      );

    // Snapshots are per node: every pod of the StatefulSet, through the chart's headless Service.
    const qdrantNodes = Array.from(
      { length: args.qdrant.replicas },
      (_, i) => `qdrant-${i}.qdrant-headless.${qdrantNamespace}.svc.cluster.local`,
    ).join(' ');
    cronJob(
      backupJobs.qdrant.cronJob,
      config.qdrantSnapshotSchedule,
      podSpec(accounts.qdrant, [
        container('snapshot', config.toolsImage, 'qdrant-snapshot.sh', [
          ...bucketEnv,
          { name: 'PREFIX', value: backupJobs.qdrant.prefix },
          { name: 'QDRANT_NODES', value: qdrantNodes },
          { name: 'QDRANT_PORT', value: String(qdrantPort) },
          {
            name: 'QDRANT_API_KEY',
            valueFrom: { secretKeyRef: { name: qdrantKey.metadata.name, key: 'api-key' } },
          },
        ]),
      ]),
      [accounts.qdrant],
    );
    // The Vault CLI takes the snapshot into the shared volume; the AWS CLI ships it.
    cronJob(
      backupJobs.vault.cronJob,
      config.vaultSnapshotSchedule,
      podSpec(
        accounts.vault,
        [
          container('upload', config.toolsImage, 'upload.sh', [
            ...bucketEnv,
            { name: 'PREFIX', value: backupJobs.vault.prefix },
            { name: 'FILE', value: '/work/vault.snap' },
          ]),
        ],
        [
          {
            ...container('snapshot', args.vaultImage, 'vault-snapshot.sh', [
              { name: 'VAULT_ADDR', value: vaultAddress },
              // TLS verified against the internal CA, for the name the servers' certificate holds.
              { name: 'VAULT_CACERT', value: '/vault-ca/ca.crt' },
              { name: 'VAULT_TLS_SERVER_NAME', value: vaultActiveHost },
              { name: 'VAULT_ROLE', value: vaultSnapshotRole },
              { name: 'HOME', value: '/work' },
              { name: 'FILE', value: '/work/vault.snap' },
            ]),
            volumeMounts: [
              { name: 'scripts', mountPath: '/scripts', readOnly: true },
              { name: 'work', mountPath: '/work' },
              { name: 'vault-ca', mountPath: '/vault-ca', readOnly: true },
            ],
          },
        ],
      ),
      [accounts.vault, vaultTrust],
    );

    this.preMigration = new k8s.batch.v1.Job(
      `${name}-${backupJobs.preMigration.job}`,
      {
        metadata: {
          // Named: on-call reads its logs by this name (replaced, never two at once).
          name: backupJobs.preMigration.job,
          namespace: ns,
          labels: { 'app.kubernetes.io/name': backupJobs.preMigration.job },
        },
        spec: {
          backoffLimit: 1,
          activeDeadlineSeconds: 3 * 3600,
          template: {
            metadata: {
              labels: { 'app.kubernetes.io/name': backupJobs.preMigration.job },
              // The image the migrations about to run come with: a new one is a new spec, so
              // the Job is replaced and a fresh snapshot is taken before they run.
              annotations: { 'rag-platform/migrating-to': args.appImage },
            },
            spec: podSpec(accounts.preMigration, [
              container('snapshot', config.toolsImage, 'pre-migration-snapshot.sh', [
                ...bucketEnv,
                { name: 'DB_INSTANCE', value: args.postgres.identifier },
                { name: 'SNAPSHOT_INFIX', value: preMigrationSnapshotInfix },
                { name: 'KEEP', value: String(config.preMigrationSnapshotsKept) },
              ]),
            ]),
          },
        },
      },
      {
        ...k8sOpts,
        dependsOn: [accounts.preMigration],
        customTimeouts: { create: '3h', update: '3h' },
        deleteBeforeReplace: true,
        replaceOnChanges: ['spec'],
      },
    );

    this.vaultName = vault.name;
    this.copyVaultName = copyVault.name;
    this.bucket = bucket.bucket;
    this.registerOutputs({ vault: this.vaultName, bucket: this.bucket });
  }
}

// Shell run by the AWS CLI image (amazon/aws-cli: bash, curl, GNU coreutils). Snapshots stream
// from Qdrant to S3 (`aws s3 cp -`) without touching the pod's disk; each node's snapshot is then
// deleted from its snapshot volume, which would otherwise fill up.
const qdrantSnapshotScript = `#!/bin/sh
set -eu
stamp="$(date -u +%Y-%m-%dT%H%M%SZ)"
auth="api-key: $QDRANT_API_KEY"
# Field values of a compact JSON answer (a plain assignment, so a failed call stops the script).
names() { printf '%s' "$1" | grep -o '"name":"[^"]*"' | cut -d'"' -f4 || true; }
for node in $QDRANT_NODES; do
  base="http://$node:$QDRANT_PORT"
  pod="\${node%%.*}"
  listing="$(curl -fsS -H "$auth" "$base/collections")"
  for collection in $(names "$listing"); do
    created="$(curl -fsS -X POST -H "$auth" "$base/collections/$collection/snapshots?wait=true")"
    name="$(names "$created" | head -n1)"
    [ -n "$name" ] || { echo "no snapshot name from $pod for $collection: $created" >&2; exit 1; }
    key="$PREFIX/$stamp/$pod/$collection/$name"
    # No pipefail in sh: a failed download is recorded beside the pipe and fails the Job.
    rm -f "$HOME/download-failed"
    { curl -fsS -H "$auth" "$base/collections/$collection/snapshots/$name" || touch "$HOME/download-failed"; } \\
      | aws s3 cp - "s3://$BACKUP_BUCKET/$key"
    [ ! -e "$HOME/download-failed" ] || { echo "download of $key failed" >&2; exit 1; }
    curl -fsS -X DELETE -H "$auth" "$base/collections/$collection/snapshots/$name" >/dev/null
    echo "shipped s3://$BACKUP_BUCKET/$key"
  done
done
`;

// Run by the Vault image: log in with the pod's ServiceAccount token through the Kubernetes auth
// role that holds only the snapshot policy.
const vaultSnapshotScript = `#!/bin/sh
set -eu
VAULT_TOKEN="$(vault write -field=token auth/kubernetes/login role="$VAULT_ROLE" jwt=@/var/run/secrets/kubernetes.io/serviceaccount/token)"
export VAULT_TOKEN
vault operator raft snapshot save "$FILE"
`;

const uploadScript = `#!/bin/sh
set -eu
key="$PREFIX/$(date -u +%Y-%m-%dT%H%M%SZ).snap"
aws s3 cp "$FILE" "s3://$BACKUP_BUCKET/$key"
echo "shipped s3://$BACKUP_BUCKET/$key"
`;

// A manual snapshot is kept until deleted (automated ones expire with the retention): keep the
// newest KEEP of those this Job took, delete older ones.
const preMigrationSnapshotScript = `#!/bin/sh
set -eu
# RDS refuses a snapshot while the instance backs up, patches or modifies: wait for it.
until aws rds wait db-instance-available --db-instance-identifier "$DB_INSTANCE"; do echo "waiting for $DB_INSTANCE"; done
id="$DB_INSTANCE$SNAPSHOT_INFIX$(date -u +%Y%m%d%H%M%S)"
aws rds create-db-snapshot --db-instance-identifier "$DB_INSTANCE" --db-snapshot-identifier "$id" >/dev/null
until aws rds wait db-snapshot-available --db-snapshot-identifier "$id"; do echo "still waiting for $id"; done
echo "snapshot $id available"
aws rds describe-db-snapshots --db-instance-identifier "$DB_INSTANCE" --snapshot-type manual \\
  --query "sort_by(DBSnapshots[?starts_with(DBSnapshotIdentifier, '$DB_INSTANCE$SNAPSHOT_INFIX')], &SnapshotCreateTime)[].DBSnapshotIdentifier" \\
  --output text | tr '\\t' '\\n' | head -n "-$KEEP" | while read -r old; do
  [ -n "$old" ] && aws rds delete-db-snapshot --db-snapshot-identifier "$old" >/dev/null && echo "deleted $old"
done
`;
