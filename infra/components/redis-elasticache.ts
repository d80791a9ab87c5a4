import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import * as random from '@pulumi/random';
import {
  elastiCacheMaintenanceWindow,
  elastiCacheSnapshotWindow,
} from '../config/maintenance-windows';
import type { AwsStackConfig } from '../config/stack-config';
import type { DatastoreConnection } from './datastore-connection';
import type { Network } from './network';

export interface ElastiCacheRedisArgs {
  config: AwsStackConfig['redis'];
  production: boolean;
  network: Network;
  clientSecurityGroupId: pulumi.Input<string>;
}

/**
 * ElastiCache Redis: a multi-AZ replication group with automatic failover, KMS encryption at rest,
 * TLS in transit, an AUTH token, and daily snapshots. Reachable from the cluster's nodes only.
 */
export class ElastiCacheRedis extends pulumi.ComponentResource implements DatastoreConnection {
  readonly url: pulumi.Output<string>;
  readonly endpoint: pulumi.Output<string>;
  readonly port = 6379;
  readonly egressPeers;

  constructor(name: string, args: ElastiCacheRedisArgs, opts?: pulumi.ComponentResourceOptions) {
    super('rag-platform:redis:ElastiCacheRedis', name, {}, opts);
    const parent = { parent: this };
    const { config, network } = args;
    this.egressPeers = [{ ipBlock: { cidr: network.vpcCidr } }];

    const key = new aws.kms.Key(
      `${name}-redis`,
      {
        description: `${name}: ElastiCache at rest`,
        enableKeyRotation: true,
        deletionWindowInDays: 30,
      },
      parent,
    );
    const subnets = new aws.elasticache.SubnetGroup(
      name,
      { subnetIds: network.privateSubnetIds },
      parent,
    );
    const securityGroup = new aws.ec2.SecurityGroup(
      `${name}-redis`,
      {
        vpcId: network.vpcId,
        description: 'Redis from the EKS nodes only',
        ingress: [
          {
            protocol: 'tcp',
            fromPort: 6379,
            toPort: 6379,
            securityGroups: [args.clientSecurityGroupId],
          },
        ],
      },
      parent,
    );
    const token = new random.RandomPassword(`${name}-auth`, { length: 64, special: false }, parent);

    const group = new aws.elasticache.ReplicationGroup(
      name,
      {
        description: `${name} cache for the RAG service`,
        engine: 'redis',
        engineVersion: config.engineVersion,
        nodeType: config.nodeType,
        numCacheClusters: config.nodes,
        port: this.port,
        automaticFailoverEnabled: true,
        multiAzEnabled: true,
        atRestEncryptionEnabled: true,
        kmsKeyId: key.arn,
        transitEncryptionEnabled: true,
        authToken: token.result,
        subnetGroupName: subnets.name,
        securityGroupIds: [securityGroup.id],
        snapshotRetentionLimit: config.snapshotRetentionDays,
        snapshotWindow: elastiCacheSnapshotWindow,
        maintenanceWindow: elastiCacheMaintenanceWindow,
        autoMinorVersionUpgrade: true,
        applyImmediately: !args.production,
        finalSnapshotIdentifier: args.production ? `${name}-final` : undefined,
      },
      { parent: this, protect: args.production },
    );

    this.endpoint = group.primaryEndpointAddress;
    this.url = pulumi.secret(
      pulumi.interpolate`rediss://:${token.result}@${group.primaryEndpointAddress}:${this.port}`,
    );
    this.registerOutputs({ endpoint: this.endpoint });
  }
}
