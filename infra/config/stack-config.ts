import { z } from 'zod';
import { serviceSettingNames } from '../../catalog/service-settings';

// The stack configuration, validated once when the program starts. Every key carries a
// description (a test enforces it) so this file is the reference for what a stack file may hold.
// Unknown keys and wrong types fail fast with the full key path, e.g.
// `rag-platform:postgres.readReplicas: expected number`.

/** Settings the program wires itself (from Vault or its own resources); a stack may not override them. */
export const infraOwnedSettings = new Set([
  'DATABASE_URL',
  'DATABASE_REPLICA_URLS',
  'DATABASE_CREDENTIALS_FILE',
  'API_KEY_PEPPER',
  // The signing keys are rendered by Vault Agent; a key directory besides would be refused.
  'JWT_SIGNING_KEYS_FILE',
  'JWT_SIGNING_KEYS_DIR',
  'REDIS_URL',
  'QDRANT_URL',
  'QDRANT_API_KEY',
  'NODE_ENV',
  'PORT',
  'INTERNAL_PORT',
  'HTTP_KEEP_ALIVE_TIMEOUT_MS',
  'SERVICE_NAME',
  'PROCESS_ROLE',
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'HTTP_TRUST_PROXY',
  'RATE_LIMIT_EXPECTED_REPLICAS',
]);
const appSettingNames = new Set<string>(serviceSettingNames);

export const environments = ['dev', 'staging', 'production'] as const;
export type Environment = (typeof environments)[number];

const digestRef = /^[a-z0-9]+(?:[._\-/:][a-z0-9]+)*@sha256:[a-f0-9]{64}$/;
const taggedRef = /^[a-z0-9]+(?:[._\-/:][a-z0-9]+)*:[\w][\w.-]{0,127}$/;
/**
 * A third-party image by tag and digest (`repo:tag@sha256:...`): the node pulls the digest, people
 * read the tag. A tag alone can be re-pointed upstream after review.
 */
export const pinnedRef = /^[a-z0-9]+(?:[._\-/][a-z0-9]+)*:[\w][\w.-]{0,127}@sha256:[a-f0-9]{64}$/;
const pinnedImage = (what: string) =>
  z
    .string()
    .regex(pinnedRef, 'must be pinned by tag and digest (repo:tag@sha256:<digest>)')
    .describe(what);
const cidr = z
  .string()
  .regex(/^(\d{1,3}\.){3}\d{1,3}\/\d{1,2}$/, 'must be an IPv4 CIDR such as 10.40.0.0/16');
const quantity = z.string().regex(/^\d+(\.\d+)?(m|Mi|Gi)?$/, 'must be a Kubernetes quantity');
const duration = z.string().regex(/^\d+[smhdwy]$/, 'must be a duration such as 15d');
const posInt = (max: number) => z.number().int().min(1).max(max);
const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date such as 2027-03-27');

const networkSchema = z
  .object({
    vpcCidr: cidr.describe('CIDR of the VPC; subnets are carved from it (/20 each).'),
    availabilityZones: z
      .array(z.string().regex(/^[a-z]{2}-[a-z]+-\d[a-z]$/, 'must be an AZ name like eu-west-1a'))
      .length(3)
      .describe('The three availability zones the VPC spans (public + private subnet in each).'),
    natGateways: z
      .enum(['one', 'per-az'])
      .describe('One shared NAT gateway (cheaper) or one per AZ (survives an AZ outage).'),
  })
  .strict();

const clusterSchema = z
  .object({
    version: z
      .string()
      .regex(/^1\.\d+$/)
      .describe('EKS Kubernetes minor version, e.g. 1.35.'),
    standardSupportEnds: isoDate.describe(
      "End of EKS standard support for that version (AWS's release calendar); a test fails " +
        'once it has passed. The cluster is set to STANDARD support: AWS upgrades it after this ' +
        'date instead of billing extended support.',
    ),
    addons: z
      .object({
        vpcCni: z
          .string()
          .regex(/^v\d+\.\d+\.\d+-eksbuild\.\d+$/)
          .describe(
            'vpc-cni add-on version (`aws eks describe-addon-versions --addon-name vpc-cni`).',
          ),
        ebsCsiDriver: z
          .string()
          .regex(/^v\d+\.\d+\.\d+-eksbuild\.\d+$/)
          .describe('aws-ebs-csi-driver add-on version, compatible with the cluster version.'),
      })
      .strict()
      .describe('Pinned EKS add-on versions: upgraded by editing them, never implicitly.'),
    nodeInstanceTypes: z
      .array(z.string().min(1))
      .min(1)
      .describe(
        'EC2 instance types of the managed node group (system nodes: Karpenter, CoreDNS, add-ons).',
      ),
    nodeMinSize: posInt(100).describe('Minimum nodes in the managed node group.'),
    nodeDesiredSize: posInt(100).describe('Initial nodes in the managed node group.'),
    nodeMaxSize: posInt(100).describe(
      'Maximum nodes in the managed node group; workload capacity beyond it comes from Karpenter.',
    ),
    loadBalancerControllerChartVersion: z
      .string()
      .min(1)
      .describe('aws-load-balancer-controller Helm chart version (eks-charts).'),
    karpenter: z
      .object({
        chartVersion: z.string().min(1).describe('Karpenter Helm chart (and controller) version.'),
        instanceCategories: z
          .array(z.enum(['c', 'm', 'r']))
          .min(1)
          .describe('EC2 instance categories Karpenter may launch (compute, general, memory).'),
        cpuLimit: posInt(2000).describe('Most vCPUs the NodePool may provision in total.'),
        memoryLimitGi: posInt(8000).describe('Most memory (GiB) the NodePool may provision.'),
      })
      .strict()
      .describe(
        'Karpenter, the node autoscaler: grows nodes for pending pods up to these limits, ' +
          'consolidates them when they empty.',
      ),
    nodeDiskGb: posInt(2000).describe('Root volume size of each node (GiB, encrypted gp3).'),
    publicAccessCidrs: z
      .array(cidr)
      .describe(
        'CIDRs allowed to reach the public API endpoint (IAM authentication still applies). On ' +
          'the AWS stacks: the static egress ranges of the GitHub-hosted larger runner ' +
          '`rag-deployer` that runs every job reaching the cluster (pulumi preview/up, kubectl), ' +
          'plus any operator range; never 0.0.0.0/0. Empty keeps the endpoint private only.',
      ),
    previewRoleArns: z
      .array(z.string().regex(/^arn:aws:iam::\d{12}:role\/.+$/, 'must be an IAM role ARN'))
      .default([])
      .describe(
        'IAM roles pull-request previews assume: they may read the cluster and only dry-run ' +
          'writes (a ValidatingAdmissionPolicy denies the rest).',
      ),
    adminRoleArns: z
      .array(z.string().regex(/^arn:aws:iam::\d{12}:role\/.+$/, 'must be an IAM role ARN'))
      // The creator gets no implicit access (bootstrapClusterCreatorAdminPermissions: false): the
      // role running `pulumi up` must be listed or the program cannot reach its own cluster.
      .min(1, 'must list at least the role that runs `pulumi up`')
      .describe(
        'IAM roles granted cluster-admin through EKS access entries; must include the role that ' +
          'runs `pulumi up` (CI) and the operators.',
      ),
  })
  .strict()
  .refine((c) => c.nodeMinSize <= c.nodeDesiredSize && c.nodeDesiredSize <= c.nodeMaxSize, {
    message: 'must satisfy nodeMinSize <= nodeDesiredSize <= nodeMaxSize',
    path: ['nodeDesiredSize'],
  });

const existingClusterSchema = z
  .object({
    kubeContext: z
      .string()
      .min(1)
      .optional()
      .describe('kubeconfig context to deploy into; the current context when unset.'),
    storageClassName: z
      .string()
      .min(1)
      .optional()
      .describe("StorageClass for volumes; the cluster's default when unset."),
  })
  .strict();

const rdsSchema = z
  .object({
    engineVersion: z
      .string()
      .regex(/^\d+$/, 'must be a major version such as 16 (AWS applies minor upgrades)')
      .describe(
        'RDS PostgreSQL major version. AWS applies minor (security) upgrades automatically in ' +
          'the maintenance window; a major upgrade is an edit here.',
      ),
    majorVersionSupportEnds: isoDate.describe(
      'End of RDS standard support for that major version; a test fails once it has passed.',
    ),
    instanceClass: z
      .string()
      .regex(/^db\.[a-z0-9]+\.[a-z0-9]+$/)
      .describe('Instance class of the primary and replicas.'),
    allocatedStorageGb: z.number().int().min(20).describe('Initial gp3 storage (GiB).'),
    maxAllocatedStorageGb: z
      .number()
      .int()
      .min(20)
      .describe('Storage autoscaling ceiling (GiB); must exceed allocatedStorageGb.'),
    multiAz: z.boolean().describe('Synchronous standby in a second AZ for the primary.'),
    readReplicas: z.number().int().min(0).max(5).describe('Read replicas of the primary.'),
    backupRetentionDays: z
      .number()
      .int()
      .min(7)
      .max(35)
      .describe('Automated backup (and point-in-time recovery) retention, 7-35 days.'),
    deletionProtection: z.boolean().describe('Refuse deletion of the primary while set.'),
    slowStatementMs: posInt(60_000).describe('log_min_duration_statement: slower SQL is logged.'),
    maxConnections: posInt(5000).describe('max_connections of the parameter group.'),
  })
  .strict()
  .refine((p) => p.maxAllocatedStorageGb > p.allocatedStorageGb, {
    message: 'must be larger than allocatedStorageGb (storage autoscaling)',
    path: ['maxAllocatedStorageGb'],
  });

const inClusterPostgresSchema = z
  .object({
    instances: z
      .number()
      .int()
      .min(2)
      .max(5)
      .describe('CloudNativePG instances: one primary plus streaming replicas (>= 2).'),
    storageGb: posInt(1000).describe('Volume size per instance (GiB).'),
    operatorChartVersion: z.string().min(1).describe('cloudnative-pg Helm chart version.'),
  })
  .strict();

const elastiCacheSchema = z
  .object({
    engineVersion: z
      .string()
      .regex(/^\d+\.\d+$/)
      .describe('Redis OSS engine version, e.g. 7.1.'),
    nodeType: z
      .string()
      .regex(/^cache\.[a-z0-9]+\.[a-z0-9]+$/)
      .describe('ElastiCache node type.'),
    nodes: z
      .number()
      .int()
      .min(2)
      .max(6)
      .describe('Nodes in the replication group (one primary, the rest replicas; >= 2).'),
    snapshotRetentionDays: z.number().int().min(1).max(35).describe('Daily snapshot retention.'),
  })
  .strict();

const inClusterRedisSchema = z
  .object({
    image: pinnedImage('Redis image (repo:tag@sha256:<digest>).'),
    storageGb: posInt(100).describe('Volume size for the append-only file (GiB).'),
  })
  .strict();

const qdrantSchema = z
  .object({
    chartVersion: z.string().min(1).describe('qdrant Helm chart version.'),
    replicas: z.number().int().min(1).max(16).describe('Qdrant cluster nodes.'),
    replicationFactor: z
      .number()
      .int()
      .min(1)
      .max(8)
      .describe('Copies of each shard; must not exceed replicas.'),
    writeConsistencyFactor: z
      .number()
      .int()
      .min(1)
      .max(8)
      .describe(
        'Replicas of a shard that must confirm a write. >= 2 keeps an acknowledged write in two ' +
          'zones; <= replicationFactor - 1 keeps writes working with one zone down.',
      ),
    storageGb: posInt(4000).describe('Data volume per node (GiB).'),
    snapshotStorageGb: posInt(4000).describe('Snapshot volume per node (GiB).'),
  })
  .strict()
  .refine((q) => q.replicationFactor <= q.replicas, {
    message: 'must not exceed qdrant.replicas',
    path: ['replicationFactor'],
  })
  .refine((q) => q.writeConsistencyFactor <= q.replicationFactor, {
    message: 'must not exceed qdrant.replicationFactor',
    path: ['writeConsistencyFactor'],
  });

const observabilitySchema = z
  .object({
    chartVersion: z.string().min(1).describe('kube-prometheus-stack Helm chart version.'),
    prometheusRetention: duration.describe('How long Prometheus keeps samples, e.g. 15d.'),
    prometheusStorageGb: posInt(4000).describe('Prometheus volume (GiB).'),
    prometheusReplicas: posInt(4).describe('Prometheus replicas.'),
    alertmanagerReplicas: posInt(5).describe('Alertmanager replicas (clustered).'),
    grafanaReplicas: posInt(3).describe(
      'Grafana replicas; above one they keep no volume (everything is provisioned from the repo).',
    ),
    grafanaHost: z
      .string()
      .regex(/^[a-z0-9.-]+\.[a-z]{2,}$/)
      .describe(
        "Host name Grafana's Ingress serves (internal load balancer on AWS): every alert's " +
          'dashboard_url in this stack points at it, so it must resolve for on-call.',
      ),
    grafanaTlsCertificateArn: z
      .string()
      .regex(/^arn:aws:acm:[a-z0-9-]+:\d{12}:certificate\/.+$/)
      .optional()
      .describe("ACM certificate covering grafanaHost, for Grafana's load balancer (AWS stacks)."),
    grafanaTlsSecretName: z
      .string()
      .min(1)
      .optional()
      .describe(
        "Kubernetes TLS secret in namespace monitoring for Grafana's Ingress (dev stacks).",
      ),
  })
  .strict();

const vaultSchema = z
  .object({
    chartVersion: z.string().min(1).describe('hashicorp/vault Helm chart version.'),
    image: pinnedImage(
      'Vault image (repo:tag@sha256:<digest>): the servers, the injected Vault Agent and the ' +
        'raft snapshot CronJob.',
    ),
    deployAddress: z
      .string()
      .regex(/^https:\/\/[^/\s]+$/, 'must be an https:// address')
      .default('https://127.0.0.1:8200')
      .describe(
        'Where `pulumi up` reaches Vault to configure it: a port-forward to the active server ' +
          '(`kubectl -n vault port-forward svc/vault-active 8200:8200`). TLS is verified against ' +
          'VAULT_CACERT for the name vault-active.vault.svc; the token is VAULT_TOKEN.',
      ),
    replicas: z
      .number()
      .int()
      .min(1)
      .max(7)
      .describe('Vault servers in the raft cluster (odd numbers).'),
    storageGb: posInt(500).describe('Raft data volume per server (GiB).'),
  })
  .strict()
  .refine((v) => v.replicas % 2 === 1, {
    message: 'must be odd (raft quorum)',
    path: ['replicas'],
  });

const appSchema = z
  .object({
    image: z
      .string()
      .refine(
        (s) => digestRef.test(s) || taggedRef.test(s),
        'must be repo@sha256:<digest> or repo:tag',
      )
      .refine((s) => !/:latest$/.test(s), 'must not use the latest tag')
      .describe('Service image. Staging and production require a digest (repo@sha256:...).'),
    host: z
      .string()
      .regex(/^[a-z0-9.-]+\.[a-z]{2,}$/)
      .describe('Public host name of the API (Ingress).'),
    ingressClassName: z
      .string()
      .min(1)
      .describe(
        'IngressClass of the Ingress: alb on AWS (the AWS Load Balancer Controller the program ' +
          'installs), the dev cluster’s own controller otherwise.',
      ),
    tlsCertificateArn: z
      .string()
      .regex(/^arn:aws:acm:[a-z0-9-]+:\d{12}:certificate\/.+$/)
      .optional()
      .describe('ACM certificate for the ALB (AWS stacks).'),
    tlsSecretName: z
      .string()
      .min(1)
      .optional()
      .describe('Kubernetes TLS secret for the Ingress (dev stacks).'),
    minReplicas: posInt(100).describe('HPA minimum replicas.'),
    maxReplicas: posInt(200).describe('HPA maximum replicas.'),
    targetCpuPercent: z.number().int().min(10).max(95).describe('HPA target CPU utilisation.'),
    cpuRequest: quantity.describe('CPU request of the API container.'),
    cpuLimit: quantity.describe('CPU limit of the API container.'),
    memoryRequest: quantity.describe('Memory request of the API container.'),
    memoryLimit: quantity.describe('Memory limit of the API container.'),
    settings: z
      .record(z.string(), z.string())
      .default({})
      .describe('Extra service settings (names from app/src/config.ts), e.g. CHUNK_SIZE.'),
  })
  .strict()
  .refine((a) => a.minReplicas <= a.maxReplicas, {
    message: 'must not exceed maxReplicas',
    path: ['minReplicas'],
  });

const metricsServerSchema = z
  .object({
    chartVersion: z.string().min(1).describe('metrics-server Helm chart version.'),
    install: z
      .boolean()
      .describe(
        'Install metrics-server (the HPA reads CPU from it). false only where the cluster ' +
          'already runs one (k3d, minikube addon): two would fight over the metrics API.',
      ),
    kubeletInsecureTls: z
      .boolean()
      .default(false)
      .describe(
        'Skip verifying kubelet serving certificates: only for local clusters (kind) whose ' +
          'kubelets serve self-signed ones.',
      ),
  })
  .strict();

const rolloutsSchema = z
  .object({
    chartVersion: z.string().min(1).describe('argo-rollouts Helm chart version (argo-helm).'),
    stepPauseMinutes: posInt(60).describe(
      'Minutes the canary holds at each weight (20%, 50%) while the SLO burn-rate analysis runs; ' +
        'at least the analysis window (5m) so a step is judged on its own traffic.',
    ),
  })
  .strict();

const kedaSchema = z
  .object({
    chartVersion: z.string().min(1).describe('KEDA Helm chart version (kedacore/charts).'),
  })
  .strict();

const ingestionWorkersSchema = z
  .object({
    minReplicas: z
      .number()
      .int()
      .min(0)
      .max(100)
      .describe(
        'Fewest ingestion worker pods. 0 lets KEDA scale them away when the queue is empty; ' +
          'the first document then waits for a pod to start (counts against ingestion freshness).',
      ),
    maxReplicas: posInt(200).describe('Most ingestion worker pods KEDA may run.'),
    jobsPerReplica: posInt(1000).describe(
      'Queued plus active ingestion jobs one worker pod is expected to carry: KEDA targets ' +
        'ceil(depth / jobsPerReplica) pods.',
    ),
  })
  .strict()
  .refine((w) => w.minReplicas <= w.maxReplicas, {
    message: 'must not exceed maxReplicas',
    path: ['minReplicas'],
  });
const imageRegistrySchema = z
  .object({
    repositoryName: z
      .string()
      .regex(/^[a-z0-9]+(?:[._/-][a-z0-9]+)*$/, 'must be an ECR repository name')
      .describe('Name of the repository (the image name the build workflow pushes).'),
    pullAccountIds: z
      .array(z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id'))
      .default([])
      .describe(
        'Accounts whose roles may pull from the repository (production’s account): the ' +
          'repository policy grants them the pull actions, their node roles hold ' +
          'AmazonEC2ContainerRegistryReadOnly.',
      ),
  })
  .strict();

const dnsSchema = z
  .object({
    hostedZoneId: z
      .string()
      .regex(/^Z[A-Z0-9]{4,32}$/, 'must be a Route 53 hosted zone id')
      .describe('Id of the public hosted zone (`aws route53 list-hosted-zones-by-name`).'),
    zoneName: z
      .string()
      .regex(/^[a-z0-9.-]+\.[a-z]{2,}$/)
      .describe('Name of that zone; app.host must be a name inside it (not its apex).'),
  })
  .strict();

const cronSchedule = z
  .string()
  .regex(/^(\S+\s+){4}\S+$/, 'must be a five-field cron schedule such as 15 3 * * *');
const awsRegion = z
  .string()
  .regex(/^[a-z]{2}-[a-z]+-\d$/, 'must be an AWS region like eu-central-1');

const backupsSchema = z
  .object({
    retentionDays: z
      .number()
      .int()
      .min(7)
      .max(3650)
      .describe(
        'How long AWS Backup keeps recovery points (RDS, the Qdrant and Vault volumes) and how ' +
          'long the Qdrant and Vault snapshots stay in the backup bucket (days).',
      ),
    copyRegion: awsRegion.describe(
      'Region that holds the cross-region copies (AWS Backup copy, RDS automated backup ' +
        'replication): a regional outage must not take the backups with it.',
    ),
    copyRetentionDays: z
      .number()
      .int()
      .min(7)
      .max(3650)
      .describe('How long the copies in copyRegion are kept (days).'),
    schedule: z
      .string()
      .regex(/^cron\(.+\)$/, 'must be an AWS cron expression such as cron(0 2 * * ? *)')
      .describe(
        'AWS Backup plan schedule (UTC): after the RDS backup window and the weekly maintenance ' +
          'window (RDS refuses a snapshot while it backs up or patches).',
      ),
    qdrantSnapshotSchedule: cronSchedule.describe(
      'CronJob schedule (UTC) of the Qdrant snapshots shipped to S3.',
    ),
    vaultSnapshotSchedule: cronSchedule.describe(
      'CronJob schedule (UTC) of the Vault raft snapshots shipped to S3.',
    ),
    preMigrationSnapshotsKept: posInt(50).describe(
      'Manual RDS snapshots taken before migrations that are kept (older ones are deleted).',
    ),
    toolsImage: pinnedImage(
      'Image with the AWS CLI and curl the backup Jobs run (amazon/aws-cli:tag@sha256:<digest>).',
    ),
  })
  .strict()
  .refine((b) => b.copyRetentionDays >= b.retentionDays, {
    message: 'must be >= backups.retentionDays (the copy outlives the original)',
    path: ['copyRetentionDays'],
  });

const telemetrySchema = z
  .object({
    lokiChartVersion: z.string().min(1).describe('grafana/loki Helm chart version (log store).'),
    tempoChartVersion: z
      .string()
      .min(1)
      .describe('grafana/tempo Helm chart version (trace store).'),
    alloyChartVersion: z
      .string()
      .min(1)
      .describe('grafana/alloy Helm chart version (the DaemonSet shipping pod logs to Loki).'),
    logRetentionDays: posInt(400).describe('How long Loki keeps log lines (days).'),
    traceRetentionDays: posInt(400).describe('How long Tempo keeps traces (days).'),
    storageGb: posInt(2000).describe(
      'Volume of Loki and of Tempo (GiB): their write-ahead logs, and all their data on dev ' +
        '(AWS stacks keep chunks and blocks in S3).',
    ),
  })
  .strict();

const base = {
  environment: z.enum(environments).describe('Which environment this stack is.'),
  metricsServer: metricsServerSchema.describe('The resource metrics API every HPA reads.'),
  qdrant: qdrantSchema.describe('Vector store (official qdrant chart).'),
  observability: observabilitySchema.describe('kube-prometheus-stack.'),
  vault: vaultSchema.describe('Vault (HA raft) and its injector.'),
  app: appSchema.describe('The RAG service workload.'),
  rollouts: rolloutsSchema.describe(
    'Argo Rollouts: the API rolls out as a canary judged by the SLO burn-rate analysis.',
  ),
  keda: kedaSchema.describe('KEDA: scales the ingestion workers on queue depth.'),
  ingestionWorkers: ingestionWorkersSchema.describe(
    'Ingestion worker pods (PROCESS_ROLE=worker), apart from the API pods so ingestion never ' +
      'slows queries; scaled by KEDA on the queue depth the API exports.',
  ),
  telemetry: telemetrySchema.describe('Log store (Loki), trace store (Tempo) and log collector.'),
  alertmanagerReceiverSecrets: z
    .record(z.string().regex(/^[a-z0-9-]+$/), z.string().min(1))
    .default({})
    .describe(
      'SECRET. File name -> value for every *_file the generated Alertmanager config reads ' +
        '(set with `pulumi config set --secret --path alertmanagerReceiverSecrets.<file> ...`).',
    ),
};

const awsStackSchema = z
  .object({
    ...base,
    environment: z.enum(['staging', 'production']).describe('Which environment this stack is.'),
    network: networkSchema.describe('VPC layout.'),
    logRetentionDays: z
      .union(
        [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 3653].map((d) =>
          z.literal(d),
        ) as unknown as [z.ZodLiteral<number>, z.ZodLiteral<number>, ...z.ZodLiteral<number>[]],
      )
      .describe(
        'Retention (days, a value CloudWatch accepts) of the log groups the program owns: EKS ' +
          'control-plane logs and VPC flow logs.',
      ),
    cluster: clusterSchema.describe('EKS cluster.'),
    imageRegistry: imageRegistrySchema
      .optional()
      .describe(
        'The ECR repository the build pushes to, created in this stack’s account (staging: the ' +
          'build account). Production runs the same reference staging verified and pulls it ' +
          'cross-account, so it declares no registry of its own.',
      ),
    dns: dnsSchema.describe(
      'Route 53 public hosted zone holding app.host: the program points app.host at the ALB.',
    ),
    postgres: rdsSchema.describe('RDS PostgreSQL primary, replicas and RDS Proxy.'),
    redis: elastiCacheSchema.describe('ElastiCache Redis replication group.'),
    backups: backupsSchema.describe(
      'Backups of every stateful component (AWS Backup, cross-region copies, snapshots to S3).',
    ),
  })
  .strict();

const devStackSchema = z
  .object({
    ...base,
    environment: z.literal('dev').describe('Which environment this stack is.'),
    cluster: existingClusterSchema.describe('The existing cluster from the current kubeconfig.'),
    postgres: inClusterPostgresSchema.describe('In-cluster Postgres (CloudNativePG).'),
    redis: inClusterRedisSchema.describe('In-cluster Redis.'),
  })
  .strict();

export const stackConfigSchema = z
  .discriminatedUnion('environment', [devStackSchema, awsStackSchema])
  .superRefine((c, ctx) => {
    const require = (ok: boolean, path: (string | number)[], message: string) => {
      if (!ok) ctx.addIssue({ code: 'custom', path, message });
    };
    if (c.environment !== 'dev') {
      require(digestRef.test(c.app.image), [
        'app',
        'image',
      ], 'must be pinned by digest (repo@sha256:...)');
      require(c.app.tlsCertificateArn !== undefined, [
        'app',
        'tlsCertificateArn',
      ], 'is required on AWS stacks');
      require(c.observability.grafanaTlsCertificateArn !== undefined, [
        'observability',
        'grafanaTlsCertificateArn',
      ], 'is required on AWS stacks');
      require(c.app.ingressClassName === 'alb', [
        'app',
        'ingressClassName',
      ], 'must be alb on AWS stacks (the controller the program installs)');
      require(c.metricsServer.install, [
        'metricsServer',
        'install',
      ], 'must be true on AWS stacks (EKS runs no metrics-server by itself)');
      require(c.cluster.publicAccessCidrs.length > 0, [
        'cluster',
        'publicAccessCidrs',
      ], 'must list the deploy runners’ egress CIDRs (jobs reach the API from outside the VPC)');
      for (const [i, range] of c.cluster.publicAccessCidrs.entries())
        require(!range.endsWith('/0'), [
          'cluster',
          'publicAccessCidrs',
          i,
        ], 'must not open the API endpoint to every address');
      require(c.app.host.endsWith(`.${c.dns.zoneName}`), [
        'app',
        'host',
      ], `must be a name inside the hosted zone ${c.dns.zoneName} (a CNAME cannot sit at its apex)`);
      require(!c.metricsServer.kubeletInsecureTls, [
        'metricsServer',
        'kubeletInsecureTls',
      ], 'must be false on AWS stacks (EKS kubelets serve verifiable certificates)');
    } else {
      require(c.app.tlsSecretName !== undefined, [
        'app',
        'tlsSecretName',
      ], 'is required on the dev stack');
      require(c.observability.grafanaTlsSecretName !== undefined, [
        'observability',
        'grafanaTlsSecretName',
      ], 'is required on the dev stack');
    }
    for (const name of Object.keys(c.app.settings)) {
      if (!appSettingNames.has(name))
        require(false, [
          'app',
          'settings',
          name,
        ], 'is not a setting of the service (app/src/config.ts)');
      else if (infraOwnedSettings.has(name))
        require(false, ['app', 'settings', name], 'is set by the platform, not the stack');
    }
    if (c.environment === 'production') {
      // The production invariants from the platform's availability targets; staging may relax them.
      require(c.network.natGateways === 'per-az', [
        'network',
        'natGateways',
      ], 'must be per-az in production');
      require(c.postgres.multiAz, ['postgres', 'multiAz'], 'must be true in production');
      require(c.postgres.readReplicas >= 2, [
        'postgres',
        'readReplicas',
      ], 'must be >= 2 in production');
      require(c.postgres.deletionProtection, [
        'postgres',
        'deletionProtection',
      ], 'must be true in production');
      require(c.qdrant.replicas >= 3, ['qdrant', 'replicas'], 'must be >= 3 in production');
      require(c.qdrant.replicationFactor >= 3, [
        'qdrant',
        'replicationFactor',
      ], 'must be >= 3 in production (two copies acknowledged, one zone may be down)');
      require(c.qdrant.writeConsistencyFactor >= 2 &&
        c.qdrant.writeConsistencyFactor <= c.qdrant.replicationFactor - 1, [
        'qdrant',
        'writeConsistencyFactor',
      ], 'must be between 2 and replicationFactor - 1 in production');
      require(c.observability.alertmanagerReplicas >= 2, [
        'observability',
        'alertmanagerReplicas',
      ], 'must be >= 2 in production');
      require(c.vault.replicas >= 3, ['vault', 'replicas'], 'must be >= 3 in production');
      require(c.observability.grafanaReplicas >= 2, [
        'observability',
        'grafanaReplicas',
      ], 'must be >= 2 in production');
      require(c.app.minReplicas >= 2, ['app', 'minReplicas'], 'must be >= 2 in production');
    }
  });

export type StackConfig = z.infer<typeof stackConfigSchema>;
export type AwsStackConfig = Extract<StackConfig, { environment: 'staging' | 'production' }>;
export type DevStackConfig = Extract<StackConfig, { environment: 'dev' }>;

export class StackConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid stack configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'StackConfigError';
  }
}

/**
 * Validates the project's keys of a Pulumi config map (`project:key` -> string, objects as JSON,
 * the shape of `pulumi.runtime.allConfig()`). Keys of other namespaces (aws:, kubernetes:) belong
 * to their providers and are left alone.
 */
export function parseStackConfig(project: string, raw: Record<string, string>): StackConfig {
  const prefix = `${project}:`;
  const values: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (!key.startsWith(prefix)) continue;
    values[key.slice(prefix.length)] = parseValue(value);
  }
  const parsed = stackConfigSchema.safeParse(values);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.flatMap((issue) => {
    const at = (path: PropertyKey[]) => prefix + path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((k) => `${at([...issue.path, k])}: unknown key`);
    }
    if (issue.code === 'invalid_union' && issue.path.length === 0) {
      return [`${prefix}environment: must be one of ${environments.join(', ')}`];
    }
    return [`${at(issue.path)}: ${issue.message}`];
  });
  throw new StackConfigError(problems);
}

function parseValue(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}
