import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import type { AwsStackConfig } from '../config/stack-config';

/**
 * The AWS APIs nodes and workloads call, reached through interface endpoints instead of NAT:
 * image pulls (ECR; layers come from S3, a gateway endpoint), IRSA token exchange (STS), log
 * shipping (CloudWatch Logs), Karpenter and the load balancer controller (EC2, ELB, SQS, SSM for
 * AMI ids), Vault's auto-unseal (KMS).
 */
export const interfaceEndpointServices = [
  'ecr.api',
  'ecr.dkr',
  'sts',
  'logs',
  'ec2',
  'elasticloadbalancing',
  'sqs',
  'ssm',
  'kms',
] as const;

export interface NetworkArgs {
  config: AwsStackConfig['network'];
  /** Tags subnets so the AWS Load Balancer Controller and EKS find them. */
  clusterName: string;
  /** Retention of the VPC flow log group. */
  logRetentionDays: number;
}

/** VPC across three AZs: public subnets (load balancers, NAT) and private subnets (everything else). */
export class Network extends pulumi.ComponentResource {
  readonly vpcId: pulumi.Output<string>;
  readonly vpcCidr: string;
  private readonly zones: string[];
  readonly publicSubnetIds: pulumi.Output<string>[];
  /** Where internet-facing load balancers put their nodes: the only sources of public traffic. */
  readonly publicSubnetCidrs: string[];
  readonly privateSubnetIds: pulumi.Output<string>[];

  constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super('rag-platform:network:Network', name, {}, opts);
    const parent = { parent: this };
    const { vpcCidr, availabilityZones, natGateways } = args.config;
    this.vpcCidr = vpcCidr;
    this.zones = availabilityZones;
    const clusterTag = `kubernetes.io/cluster/${args.clusterName}`;

    const vpc = new aws.ec2.Vpc(
      name,
      {
        cidrBlock: vpcCidr,
        enableDnsHostnames: true,
        enableDnsSupport: true,
        tags: { Name: name },
      },
      parent,
    );
    const igw = new aws.ec2.InternetGateway(name, { vpcId: vpc.id, tags: { Name: name } }, parent);
    const publicRoutes = new aws.ec2.RouteTable(
      `${name}-public`,
      {
        vpcId: vpc.id,
        routes: [{ cidrBlock: '0.0.0.0/0', gatewayId: igw.id }],
        tags: { Name: `${name}-public` },
      },
      parent,
    );

    const publicSubnets = availabilityZones.map((az, i) => {
      const subnet = new aws.ec2.Subnet(
        `${name}-public-${az}`,
        {
          vpcId: vpc.id,
          availabilityZone: az,
          cidrBlock: subnetCidr(vpcCidr, i),
          mapPublicIpOnLaunch: false,
          tags: {
            Name: `${name}-public-${az}`,
            'kubernetes.io/role/elb': '1',
            [clusterTag]: 'shared',
          },
        },
        parent,
      );
      new aws.ec2.RouteTableAssociation(
        `${name}-public-${az}`,
        { subnetId: subnet.id, routeTableId: publicRoutes.id },
        parent,
      );
      return subnet;
    });

    // One NAT per AZ keeps private egress alive when an AZ fails; staging shares one to save cost.
    const natCount = natGateways === 'per-az' ? availabilityZones.length : 1;
    const nats = publicSubnets.slice(0, natCount).map((subnet, i) => {
      const az = availabilityZones[i];
      const eip = new aws.ec2.Eip(
        `${name}-nat-${az}`,
        { domain: 'vpc', tags: { Name: `${name}-nat-${az}` } },
        parent,
      );
      return new aws.ec2.NatGateway(
        `${name}-${az}`,
        { allocationId: eip.id, subnetId: subnet.id, tags: { Name: `${name}-${az}` } },
        { parent: this, dependsOn: [igw] },
      );
    });

    const privateRouteTables: aws.ec2.RouteTable[] = [];
    const privateSubnets = availabilityZones.map((az, i) => {
      const subnet = new aws.ec2.Subnet(
        `${name}-private-${az}`,
        {
          vpcId: vpc.id,
          availabilityZone: az,
          cidrBlock: subnetCidr(vpcCidr, i + availabilityZones.length),
          tags: {
            Name: `${name}-private-${az}`,
            'kubernetes.io/role/internal-elb': '1',
            [clusterTag]: 'shared',
          },
        },
        parent,
      );
      const routes = new aws.ec2.RouteTable(
        `${name}-private-${az}`,
        {
          vpcId: vpc.id,
          routes: [{ cidrBlock: '0.0.0.0/0', natGatewayId: nats[i % nats.length].id }],
          tags: { Name: `${name}-private-${az}` },
        },
        parent,
      );
      privateRouteTables.push(routes);
      new aws.ec2.RouteTableAssociation(
        `${name}-private-${az}`,
        { subnetId: subnet.id, routeTableId: routes.id },
        parent,
      );
      return subnet;
    });

    // Every accepted and rejected flow, kept as long as the stack keeps its logs.
    const flowLogGroup = new aws.cloudwatch.LogGroup(
      `${name}-flow-logs`,
      { retentionInDays: args.logRetentionDays },
      parent,
    );
    const flowLogRole = new aws.iam.Role(
      `${name}-flow-logs`,
      {
        assumeRolePolicy: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { Service: 'vpc-flow-logs.amazonaws.com' },
              Action: 'sts:AssumeRole',
            },
          ],
        }),
        inlinePolicies: [
          {
            name: 'write-flow-logs',
            policy: pulumi.jsonStringify({
              Version: '2012-10-17',
              Statement: [
                {
                  Effect: 'Allow',
                  Action: [
                    'logs:CreateLogStream',
                    'logs:PutLogEvents',
                    'logs:DescribeLogGroups',
                    'logs:DescribeLogStreams',
                  ],
                  Resource: [flowLogGroup.arn, pulumi.interpolate`${flowLogGroup.arn}:*`],
                },
              ],
            }),
          },
        ],
      },
      parent,
    );
    new aws.ec2.FlowLog(
      name,
      {
        vpcId: vpc.id,
        trafficType: 'ALL',
        logDestinationType: 'cloud-watch-logs',
        logDestination: flowLogGroup.arn,
        iamRoleArn: flowLogRole.arn,
        maxAggregationInterval: 60,
      },
      parent,
    );

    const region = aws.config.region ?? '';
    new aws.ec2.VpcEndpoint(
      `${name}-s3`,
      {
        vpcId: vpc.id,
        serviceName: `com.amazonaws.${region}.s3`,
        vpcEndpointType: 'Gateway',
        routeTableIds: privateRouteTables.map((r) => r.id),
      },
      parent,
    );
    const endpointGroup = new aws.ec2.SecurityGroup(
      `${name}-endpoints`,
      {
        vpcId: vpc.id,
        description: 'HTTPS to the AWS API endpoints from inside the VPC',
        ingress: [{ protocol: 'tcp', fromPort: 443, toPort: 443, cidrBlocks: [vpcCidr] }],
      },
      parent,
    );
    for (const service of interfaceEndpointServices) {
      new aws.ec2.VpcEndpoint(
        `${name}-${service.replace('.', '-')}`,
        {
          vpcId: vpc.id,
          serviceName: `com.amazonaws.${region}.${service}`,
          vpcEndpointType: 'Interface',
          privateDnsEnabled: true,
          subnetIds: privateSubnets.map((s) => s.id),
          securityGroupIds: [endpointGroup.id],
        },
        parent,
      );
    }

    this.vpcId = vpc.id;
    this.publicSubnetIds = publicSubnets.map((s) => s.id);
    this.publicSubnetCidrs = availabilityZones.map((_, i) => subnetCidr(vpcCidr, i));
    this.privateSubnetIds = privateSubnets.map((s) => s.id);
    this.registerOutputs({ vpcId: this.vpcId });
  }

  /** Spreads zonal resources (replicas) round-robin over the VPC's zones. */
  availabilityZone(index: number): string {
    return this.zones[index % this.zones.length];
  }
}

/** The index-th /20 of a /16 (or the equivalent 4 bits more of any VPC prefix). */
export function subnetCidr(vpcCidr: string, index: number): string {
  const [address, prefixText] = vpcCidr.split('/');
  const prefix = Number(prefixText);
  const newPrefix = prefix + 4;
  if (newPrefix > 28 || index >= 16)
    throw new Error(`cannot carve subnet ${index} from ${vpcCidr}`);
  const base = address.split('.').reduce((acc, octet) => acc * 256 + Number(octet), 0);
  const start = base + index * 2 ** (32 - newPrefix);
  const octets = [24, 16, 8, 0].map((shift) => Math.floor(start / 2 ** shift) % 256);
  return `${octets.join('.')}/${newPrefix}`;
}
