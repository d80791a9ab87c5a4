import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import * as random from '@pulumi/random';
import {
  rdsBackupWindow,
  rdsMaintenanceWindow,
  rdsReplicaMaintenanceWindow,
} from '../config/maintenance-windows';
import type { AwsStackConfig } from '../config/stack-config';
import type { PostgresConnection, PostgresExporterTarget } from './datastore-connection';
import type { Network } from './network';

export interface RdsPostgresArgs {
  config: AwsStackConfig['postgres'];
  production: boolean;
  network: Network;
  /** Security group of the cluster's nodes: the only source allowed to connect. */
  clientSecurityGroupId: pulumi.Input<string>;
  /** Retention of the log groups the instances export to. */
  logRetentionDays: number;
}

const exportedLogs = ['postgresql', 'upgrade'];

const database = 'rag';
const username = 'rag';

/**
 * RDS PostgreSQL: an encrypted (customer-managed KMS) gp3 primary with storage autoscaling, PITR
 * backups and Performance Insights, N read replicas, and RDS Proxy pooling connections to the
 * primary. Only the cluster's security group can connect; nothing is publicly accessible.
 */
export class RdsPostgres extends pulumi.ComponentResource implements PostgresConnection {
  readonly url: pulumi.Output<string>;
  readonly replicaUrls: pulumi.Output<string>;
  readonly endpoint: pulumi.Output<string>;
  readonly replicaEndpoints: pulumi.Output<string[]>;
  readonly exporterTargets: readonly PostgresExporterTarget[];
  readonly admin: PostgresConnection['admin'];
  readonly exporterPassword: pulumi.Output<string>;
  readonly dynamicUsers: PostgresConnection['dynamicUsers'];
  readonly port = 5432;
  readonly egressPeers;
  /** The primary, for backups (AWS Backup selection, cross-region replication, snapshots). */
  readonly primary: { arn: pulumi.Output<string>; identifier: pulumi.Output<string> };

  constructor(name: string, args: RdsPostgresArgs, opts?: pulumi.ComponentResourceOptions) {
    super('rag-platform:postgres:RdsPostgres', name, {}, opts);
    const parent = { parent: this };
    const { config, production, network } = args;
    // Production data outlives a mistaken `pulumi destroy`: the engine refuses to delete it.
    const stateful = { parent: this, protect: production };
    this.egressPeers = [{ ipBlock: { cidr: network.vpcCidr } }];

    const key = new aws.kms.Key(
      `${name}-rds`,
      {
        description: `${name}: RDS storage, Performance Insights and the proxy secret`,
        enableKeyRotation: true,
        deletionWindowInDays: 30,
      },
      // It also decrypts every backup of the instance (automated, manual, AWS Backup's recovery
      // points keep the source's key): it outlives the instance and the stack.
      { parent: this, protect: production, retainOnDelete: true },
    );

    const subnets = new aws.rds.SubnetGroup(name, { subnetIds: network.privateSubnetIds }, parent);
    const securityGroup = new aws.ec2.SecurityGroup(
      `${name}-rds`,
      {
        vpcId: network.vpcId,
        description: 'Postgres from the EKS nodes only',
        ingress: [
          {
            protocol: 'tcp',
            fromPort: 5432,
            toPort: 5432,
            securityGroups: [args.clientSecurityGroupId],
          },
        ],
        egress: [{ protocol: 'tcp', fromPort: 5432, toPort: 5432, cidrBlocks: [network.vpcCidr] }],
      },
      parent,
    );
    // The proxy reaches the instances through the same group: allow it to talk to itself.
    new aws.vpc.SecurityGroupIngressRule(
      `${name}-rds-self`,
      {
        securityGroupId: securityGroup.id,
        referencedSecurityGroupId: securityGroup.id,
        ipProtocol: 'tcp',
        fromPort: 5432,
        toPort: 5432,
      },
      parent,
    );

    const major = config.engineVersion.split('.')[0];
    const parameters = new aws.rds.ParameterGroup(
      name,
      {
        family: `postgres${major}`,
        parameters: [
          { name: 'rds.force_ssl', value: '1' },
          { name: 'log_min_duration_statement', value: String(config.slowStatementMs) },
          {
            name: 'max_connections',
            value: String(config.maxConnections),
            applyMethod: 'pending-reboot',
          },
          { name: 'log_lock_waits', value: '1' },
        ],
      },
      parent,
    );

    const password = new random.RandomPassword(
      `${name}-master`,
      {
        length: 40,
        special: true,
        // Characters RDS rejects ('/', '@', '"', ' ') and ones that need URL-escaping are left out.
        overrideSpecial: '-_.~!*',
      },
      parent,
    );

    const monitoringRole = new aws.iam.Role(
      `${name}-monitoring`,
      {
        assumeRolePolicy: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { Service: 'monitoring.rds.amazonaws.com' },
              Action: 'sts:AssumeRole',
            },
          ],
        }),
      },
      parent,
    );
    new aws.iam.RolePolicyAttachment(
      `${name}-monitoring`,
      {
        role: monitoringRole.name,
        policyArn: 'arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole',
      },
      parent,
    );

    const common = {
      instanceClass: config.instanceClass,
      storageType: 'gp3',
      storageEncrypted: true,
      kmsKeyId: key.arn,
      publiclyAccessible: false,
      vpcSecurityGroupIds: [securityGroup.id],
      parameterGroupName: parameters.name,
      performanceInsightsEnabled: true,
      performanceInsightsKmsKeyId: key.arn,
      performanceInsightsRetentionPeriod: 7,
      // Enhanced Monitoring: OS-level metrics (CPU steal, memory, I/O per process) every minute.
      monitoringInterval: 60,
      monitoringRoleArn: monitoringRole.arn,
      // The engine version is a major (16): AWS applies minor (security) upgrades in the
      // maintenance window and `pulumi up` sees no drift, since the major it declares still holds.
      autoMinorVersionUpgrade: true,
      maintenanceWindow: rdsMaintenanceWindow,
      copyTagsToSnapshot: true,
      enabledCloudwatchLogsExports: exportedLogs,
      caCertIdentifier: 'rds-ca-rsa2048-g1',
      applyImmediately: !production,
    };

    // RDS creates the export groups without retention if they are missing: create them first,
    // named after the instance identifiers, which are therefore set explicitly.
    const logGroups = (identifier: string) =>
      exportedLogs.map(
        (log) =>
          new aws.cloudwatch.LogGroup(
            `${identifier}-${log}-logs`,
            {
              name: `/aws/rds/instance/${identifier}/${log}`,
              retentionInDays: args.logRetentionDays,
            },
            parent,
          ),
      );
    const primary = new aws.rds.Instance(
      name,
      {
        ...common,
        identifier: name,
        engine: 'postgres',
        engineVersion: config.engineVersion,
        dbName: database,
        username,
        password: password.result,
        allocatedStorage: config.allocatedStorageGb,
        maxAllocatedStorage: config.maxAllocatedStorageGb,
        multiAz: config.multiAz,
        dbSubnetGroupName: subnets.name,
        backupRetentionPeriod: config.backupRetentionDays,
        backupWindow: rdsBackupWindow,
        deletionProtection: config.deletionProtection,
        skipFinalSnapshot: !production,
        finalSnapshotIdentifier: production ? `${name}-final` : undefined,
        // Deleting the instance (by mistake, or a replacement) keeps its automated backups for
        // their retention: point-in-time restore stays possible after the instance is gone.
        deleteAutomatedBackups: false,
      },
      { ...stateful, dependsOn: logGroups(name) },
    );

    const replicas = Array.from(
      { length: config.readReplicas },
      (_, i) =>
        new aws.rds.Instance(
          `${name}-replica-${i + 1}`,
          {
            ...common,
            identifier: `${name}-replica-${i + 1}`,
            replicateSourceDb: primary.identifier,
            availabilityZone: network.availabilityZone(i + 1),
            maxAllocatedStorage: config.maxAllocatedStorageGb,
            maintenanceWindow: rdsReplicaMaintenanceWindow,
            // Replicas are rebuilt from the primary, so they need neither their own backups nor a final snapshot.
            backupRetentionPeriod: 0,
            skipFinalSnapshot: true,
            deletionProtection: config.deletionProtection,
          },
          { ...stateful, dependsOn: logGroups(`${name}-replica-${i + 1}`) },
        ),
    );

    const proxySecret = new aws.secretsmanager.Secret(
      `${name}-proxy`,
      { kmsKeyId: key.arn, recoveryWindowInDays: production ? 30 : 0 },
      parent,
    );
    new aws.secretsmanager.SecretVersion(
      `${name}-proxy`,
      {
        secretId: proxySecret.id,
        secretString: pulumi.jsonStringify({ username, password: password.result }),
      },
      parent,
    );
    const proxyRole = new aws.iam.Role(
      `${name}-proxy`,
      {
        assumeRolePolicy: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { Service: 'rds.amazonaws.com' },
              Action: 'sts:AssumeRole',
            },
          ],
        }),
        inlinePolicies: [
          {
            name: 'read-credentials',
            policy: pulumi.jsonStringify({
              Version: '2012-10-17',
              Statement: [
                {
                  Effect: 'Allow',
                  Action: ['secretsmanager:GetSecretValue'],
                  Resource: proxySecret.arn,
                },
                { Effect: 'Allow', Action: ['kms:Decrypt'], Resource: key.arn },
              ],
            }),
          },
        ],
      },
      parent,
    );
    const proxy = new aws.rds.Proxy(
      name,
      {
        engineFamily: 'POSTGRESQL',
        requireTls: true,
        roleArn: proxyRole.arn,
        vpcSubnetIds: network.privateSubnetIds,
        vpcSecurityGroupIds: [securityGroup.id],
        idleClientTimeout: 1800,
        auths: [{ authScheme: 'SECRETS', secretArn: proxySecret.arn, iamAuth: 'DISABLED' }],
      },
      parent,
    );
    const targetGroup = new aws.rds.ProxyDefaultTargetGroup(
      name,
      {
        dbProxyName: proxy.name,
        connectionPoolConfig: {
          maxConnectionsPercent: 80,
          maxIdleConnectionsPercent: 40,
          connectionBorrowTimeout: 30,
        },
      },
      parent,
    );
    new aws.rds.ProxyTarget(
      name,
      {
        dbProxyName: proxy.name,
        targetGroupName: targetGroup.name,
        dbInstanceIdentifier: primary.identifier,
      },
      parent,
    );

    // The proxy presents an ACM certificate (publicly trusted): full verification works with
    // Node's default CAs. Replicas present the RDS CA, which is not in that store, so their
    // connections are encrypted with libpq `require` semantics.
    this.primary = { arn: primary.arn, identifier: primary.identifier };
    this.endpoint = proxy.endpoint;
    this.url = pulumi.secret(
      pulumi.interpolate`postgres://${username}:${password.result}@${proxy.endpoint}:5432/${database}?sslmode=verify-full`,
    );
    this.replicaEndpoints = pulumi.all(replicas.map((r) => r.address));
    // The instances present the RDS CA, which Node's store lacks: encrypted, `require` semantics.
    this.dynamicUsers = {
      primaryHost: primary.address,
      replicaHosts: this.replicaEndpoints,
      database,
      urlParams: 'sslmode=require&uselibpqcompat=true',
    };
    this.replicaUrls = pulumi.secret(
      pulumi
        .all([password.result, this.replicaEndpoints])
        .apply(([pw, hosts]) =>
          hosts
            .map(
              (h) =>
                `postgres://${username}:${pw}@${h}:5432/${database}?sslmode=require&uselibpqcompat=true`,
            )
            .join(','),
        ),
    );
    // The master user is the bootstrap's alone (PostgresBootstrap): it creates the roles and the
    // logins everything else uses. It connects to the instance, not the proxy.
    this.admin = {
      host: primary.address,
      port: 5432,
      database,
      user: username,
      password: password.result,
      sslmode: 'require',
    };
    this.exporterPassword = new random.RandomPassword(
      `${name}-exporter`,
      { length: 32, special: false },
      parent,
    ).result;
    // lib/pq's `require` encrypts without verifying, as the replicas' connections do.
    this.exporterTargets = [primary, ...replicas].map((instance, i) => ({
      role: i === 0 ? 'primary' : `replica-${i}`,
      host: instance.address,
      uri: pulumi.interpolate`${instance.address}:5432/${database}?sslmode=require`,
    }));
    this.registerOutputs({ endpoint: this.endpoint, replicaEndpoints: this.replicaEndpoints });
  }
}
