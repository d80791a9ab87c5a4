import type { ResourceValidationPolicy } from '@pulumi/policy';
import type { ResourceProps } from '../resource-props';

/** Every store of data is encrypted at rest, with a customer-managed key where AWS allows one. */
export const encryptionAtRest: ResourceValidationPolicy = {
  name: 'encryption-at-rest',
  description: 'Databases, caches, volumes, secrets and Kubernetes Secrets are encrypted at rest.',
  validateResource: (args, reportViolation) => {
    const p = args.props as ResourceProps;
    switch (args.type) {
      case 'aws:rds/instance:Instance':
        if (p.storageEncrypted !== true)
          reportViolation('RDS instance must set storageEncrypted: true.');
        else if (!p.kmsKeyId)
          reportViolation('RDS instance must use a customer-managed KMS key (kmsKeyId).');
        break;
      case 'aws:elasticache/replicationGroup:ReplicationGroup':
        if (p.atRestEncryptionEnabled !== true)
          reportViolation('ElastiCache must set atRestEncryptionEnabled: true.');
        if (p.transitEncryptionEnabled !== true)
          reportViolation('ElastiCache must set transitEncryptionEnabled: true.');
        break;
      case 'aws:eks/cluster:Cluster':
        if (!p.encryptionConfig?.resources?.includes('secrets'))
          reportViolation('EKS must encrypt Kubernetes Secrets with KMS (encryptionConfig).');
        break;
      case 'aws:ec2/launchTemplate:LaunchTemplate':
        for (const d of p.blockDeviceMappings ?? []) {
          if (String(d.ebs?.encrypted) !== 'true')
            reportViolation(`Launch template volume ${d.deviceName} must be encrypted.`);
        }
        break;
      case 'kubernetes:storage.k8s.io/v1:StorageClass':
        if (p.provisioner === 'ebs.csi.aws.com' && p.parameters?.encrypted !== 'true')
          reportViolation('EBS StorageClass must set encrypted: "true".');
        break;
      case 'aws:secretsmanager/secret:Secret':
        if (!p.kmsKeyId)
          reportViolation('Secrets Manager secret must use a customer-managed KMS key.');
        break;
    }
  },
};
