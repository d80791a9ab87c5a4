// Every stateful component of an AWS stack (staging, production), how it is backed up and which
// procedure restores it. The backups test finds every stateful resource the program declares,
// requires an entry here for it, checks each mechanism against the declared resources and each
// procedure section against runbooks/procedures/. The dev stack runs in a throw-away cluster and
// has no backups (README).

/** How a component's data is kept outside it. */
export type BackupMechanism =
  /** RDS automated backups (PITR for backupRetentionDays), kept after the instance is deleted. */
  | 'rds-automated-backups'
  /** The automated backups replicated to backups.copyRegion (PITR there). */
  | 'rds-cross-region-replication'
  /** AWS Backup's daily plan selects it; each recovery point is copied to backups.copyRegion. */
  | 'aws-backup'
  /** A manual RDS snapshot before every migration Job. */
  | 'pre-migration-snapshot'
  /** A CronJob ships the application's own snapshots to the backup bucket (IRSA). */
  | 'snapshots-to-s3'
  /** ElastiCache's own daily snapshots. */
  | 'elasticache-snapshots'
  /** Deliberately none: the data is rebuilt or is telemetry whose loss is accepted (see reason). */
  | 'none';

export interface StatefulComponent {
  id: string;
  /** How the test recognises the component's resource: its type and its (release) name. */
  resource: { type: string; name: RegExp };
  mechanisms: readonly BackupMechanism[];
  /** For snapshots-to-s3: the CronJob that takes them. */
  cronJob?: string;
  /** For aws-backup of volumes: the namespace whose claims' volumes are selected. */
  volumeNamespace?: string;
  /** Why there is no backup, or why the one there is suffices. */
  reason?: string;
  /** The procedure (runbooks/procedures/<id>.md) and the heading of its restore section. */
  restore: { procedure: string; section: string };
}

const release = 'kubernetes:helm.sh/v3:Release';

export const statefulComponents: readonly StatefulComponent[] = [
  {
    id: 'postgres',
    resource: { type: 'aws:rds/instance:Instance', name: /^rag-[a-z]+-postgres$/ },
    mechanisms: [
      'rds-automated-backups',
      'rds-cross-region-replication',
      'aws-backup',
      'pre-migration-snapshot',
    ],
    restore: { procedure: 'restore-postgres', section: 'Mitigation' },
  },
  {
    id: 'qdrant',
    resource: { type: release, name: /^qdrant$/ },
    mechanisms: ['snapshots-to-s3', 'aws-backup'],
    cronJob: 'qdrant-snapshot',
    volumeNamespace: 'qdrant',
    restore: { procedure: 'restore-qdrant', section: 'Mitigation' },
  },
  {
    id: 'vault',
    resource: { type: release, name: /^vault$/ },
    mechanisms: ['snapshots-to-s3', 'aws-backup'],
    cronJob: 'vault-snapshot',
    volumeNamespace: 'vault',
    restore: { procedure: 'restore-vault', section: 'Mitigation' },
  },
  {
    id: 'redis',
    resource: {
      type: 'aws:elasticache/replicationGroup:ReplicationGroup',
      name: /^rag-[a-z]+-redis$/,
    },
    mechanisms: ['elasticache-snapshots'],
    reason:
      'A cache of answers and embeddings: an empty one is refilled by traffic, so a restore is ' +
      'a new, empty replication group; the snapshots serve forensics.',
    restore: { procedure: 'backups', section: 'Redis' },
  },
  {
    id: 'monitoring',
    resource: { type: release, name: /^kube-prometheus-stack$/ },
    mechanisms: ['none'],
    reason:
      'Prometheus samples and Alertmanager silences are operational state of days; dashboards ' +
      'and rules are provisioned from this repository. Lost volumes come back empty.',
    restore: { procedure: 'backups', section: 'Not backed up' },
  },
  {
    id: 'logs',
    resource: { type: release, name: /^loki$/ },
    mechanisms: ['none'],
    reason:
      'Logs are telemetry kept for their retention only; on AWS they live in a versioned S3 ' +
      'bucket, the volume holds the write-ahead log.',
    restore: { procedure: 'backups', section: 'Not backed up' },
  },
  {
    id: 'traces',
    resource: { type: release, name: /^tempo$/ },
    mechanisms: ['none'],
    reason: 'Traces are telemetry kept for days; on AWS they live in a versioned S3 bucket.',
    restore: { procedure: 'backups', section: 'Not backed up' },
  },
];
