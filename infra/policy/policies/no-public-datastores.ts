import type { ResourceValidationPolicy } from '@pulumi/policy';
import type { ResourceProps } from '../resource-props';

const datastorePorts = [5432, 6379, 6333, 8200];

/** Databases and caches are reachable from inside the VPC only. */
export const noPublicDatastores: ResourceValidationPolicy = {
  name: 'no-public-datastores',
  description:
    'No publicly accessible database or cache, and no security group opening their ports to the internet.',
  validateResource: (args, reportViolation) => {
    const p = args.props as ResourceProps;
    if (args.type === 'aws:rds/instance:Instance' && p.publiclyAccessible === true) {
      reportViolation('RDS instance must not be publicly accessible.');
    }
    if (args.type === 'aws:elasticache/replicationGroup:ReplicationGroup' && !p.subnetGroupName) {
      reportViolation('ElastiCache must run in a (private) subnet group.');
    }
    if (args.type === 'aws:ec2/securityGroup:SecurityGroup') {
      for (const rule of p.ingress ?? []) {
        const open = [...(rule.cidrBlocks ?? []), ...(rule.ipv6CidrBlocks ?? [])].some(
          (c: string) => c === '0.0.0.0/0' || c === '::/0',
        );
        const hitsDatastore =
          datastorePorts.some((port) => rule.fromPort <= port && port <= rule.toPort) ||
          rule.protocol === '-1';
        if (open && hitsDatastore)
          reportViolation(
            `Security group opens ports ${rule.fromPort}-${rule.toPort} to the internet.`,
          );
      }
    }
  },
};
