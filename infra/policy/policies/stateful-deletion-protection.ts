import type { ResourceValidationPolicy } from '@pulumi/policy';
import type { ResourceProps } from '../resource-props';

/**
 * Stateful production resources survive a mistaken delete. Enabled by the production policy config
 * (`required: true`); elsewhere it does not apply, since staging is meant to be torn down.
 */
export const statefulDeletionProtection: ResourceValidationPolicy = {
  name: 'stateful-deletion-protection',
  description: 'Production databases and caches have deletion protection and a final snapshot.',
  configSchema: { properties: { required: { type: 'boolean', default: false } } },
  validateResource: (args, reportViolation) => {
    if (!args.getConfig<{ required?: boolean }>().required) return;
    const p = args.props as ResourceProps;
    if (args.type === 'aws:rds/instance:Instance') {
      if (p.deletionProtection !== true)
        reportViolation('RDS instance must set deletionProtection: true.');
      if (!p.replicateSourceDb && (p.skipFinalSnapshot !== false || !p.finalSnapshotIdentifier)) {
        reportViolation(
          'RDS primary must take a final snapshot (skipFinalSnapshot: false, finalSnapshotIdentifier).',
        );
      }
      if (!p.replicateSourceDb && !(p.backupRetentionPeriod >= 7))
        reportViolation('RDS primary must keep backups >= 7 days.');
    }
    if (
      args.type === 'aws:elasticache/replicationGroup:ReplicationGroup' &&
      !p.finalSnapshotIdentifier
    ) {
      reportViolation('ElastiCache replication group must take a final snapshot.');
    }
  },
};
