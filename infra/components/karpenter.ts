import * as aws from '@pulumi/aws';
import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import type { AwsStackConfig } from '../config/stack-config';
import type { EksCluster } from './cluster';
import type { Network } from './network';
import { withPinnedImages } from '../charts/chart-images';

export interface KarpenterArgs {
  config: AwsStackConfig['cluster']['karpenter'];
  /** Root volume of every node Karpenter launches (GiB). */
  nodeDiskGb: number;
  cluster: EksCluster;
  network: Network;
}

export const karpenterNamespace = 'kube-system';
const serviceAccount = 'karpenter';
export const karpenterNodePool = 'default';

/**
 * Karpenter, the node autoscaler: it launches EC2 instances for pods the scheduler cannot place
 * (the HPA's new replicas) up to the NodePool's limits, and consolidates them away when they empty.
 * The managed node group stays as the fixed system pool Karpenter itself runs on (the chart keeps
 * its controller off nodes it manages). The controller reaches AWS through its own IRSA role; its
 * nodes get their own role and an EC2_LINUX access entry; spot, health and state-change events
 * reach it through an SQS interruption queue so it drains nodes before AWS takes them.
 */
export class Karpenter extends pulumi.ComponentResource {
  readonly nodeRole: aws.iam.Role;
  readonly controllerRole: aws.iam.Role;

  constructor(name: string, args: KarpenterArgs, opts?: pulumi.ComponentResourceOptions) {
    super('rag-platform:autoscaling:Karpenter', name, {}, opts);
    const parent = { parent: this };
    const { config, cluster, network } = args;

    this.nodeRole = new aws.iam.Role(
      `${name}-node`,
      {
        assumeRolePolicy: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { Service: 'ec2.amazonaws.com' },
              Action: 'sts:AssumeRole',
            },
          ],
        }),
      },
      parent,
    );
    // No CNI policy: the VPC CNI has its own IRSA role (EksCluster).
    [
      'arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy',
      'arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly',
      'arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore',
    ].forEach(
      (policyArn, i) =>
        new aws.iam.RolePolicyAttachment(
          `${name}-node-${i}`,
          { role: this.nodeRole.name, policyArn },
          parent,
        ),
    );
    // The cluster authenticates with access entries only: nodes join through this one.
    const nodeAccess = new aws.eks.AccessEntry(
      `${name}-node`,
      { clusterName: cluster.name, principalArn: this.nodeRole.arn, type: 'EC2_LINUX' },
      parent,
    );

    const queue = new aws.sqs.Queue(
      `${name}-interruption`,
      { messageRetentionSeconds: 300, sqsManagedSseEnabled: true },
      parent,
    );
    new aws.sqs.QueuePolicy(
      `${name}-interruption`,
      {
        queueUrl: queue.url,
        policy: pulumi.jsonStringify({
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { Service: ['events.amazonaws.com', 'sqs.amazonaws.com'] },
              Action: 'sqs:SendMessage',
              Resource: queue.arn,
            },
          ],
        }),
      },
      parent,
    );
    const events: Record<string, { source: string[]; 'detail-type': string[] }> = {
      health: { source: ['aws.health'], 'detail-type': ['AWS Health Event'] },
      spot: { source: ['aws.ec2'], 'detail-type': ['EC2 Spot Instance Interruption Warning'] },
      rebalance: { source: ['aws.ec2'], 'detail-type': ['EC2 Instance Rebalance Recommendation'] },
      'state-change': {
        source: ['aws.ec2'],
        'detail-type': ['EC2 Instance State-change Notification'],
      },
    };
    for (const [event, pattern] of Object.entries(events)) {
      const rule = new aws.cloudwatch.EventRule(
        `${name}-${event}`,
        { eventPattern: JSON.stringify(pattern) },
        parent,
      );
      new aws.cloudwatch.EventTarget(
        `${name}-${event}`,
        { rule: rule.name, arn: queue.arn },
        parent,
      );
    }

    this.controllerRole = cluster.serviceAccountRole(
      `${name}-controller`,
      karpenterNamespace,
      serviceAccount,
      pulumi.jsonStringify({
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'LaunchAndTerminateNodes',
            Effect: 'Allow',
            Action: [
              'ec2:RunInstances',
              'ec2:CreateFleet',
              'ec2:CreateLaunchTemplate',
              'ec2:DeleteLaunchTemplate',
              'ec2:CreateTags',
              'ec2:TerminateInstances',
              'ec2:DescribeAvailabilityZones',
              'ec2:DescribeCapacityReservations',
              'ec2:DescribeImages',
              'ec2:DescribeInstances',
              'ec2:DescribeInstanceTypeOfferings',
              'ec2:DescribeInstanceTypes',
              'ec2:DescribeLaunchTemplates',
              'ec2:DescribePlacementGroups',
              'ec2:DescribeSecurityGroups',
              'ec2:DescribeSpotPriceHistory',
              'ec2:DescribeSubnets',
            ],
            Resource: '*',
            Condition: { StringEquals: { 'aws:RequestedRegion': aws.config.region ?? '' } },
          },
          {
            Sid: 'AmiAliasesAndPrices',
            Effect: 'Allow',
            Action: ['ssm:GetParameter', 'pricing:GetProducts'],
            Resource: '*',
          },
          {
            Sid: 'PassNodeRole',
            Effect: 'Allow',
            Action: 'iam:PassRole',
            Resource: this.nodeRole.arn,
          },
          {
            Sid: 'NodeInstanceProfiles',
            Effect: 'Allow',
            Action: [
              'iam:CreateInstanceProfile',
              'iam:TagInstanceProfile',
              'iam:AddRoleToInstanceProfile',
              'iam:RemoveRoleFromInstanceProfile',
              'iam:DeleteInstanceProfile',
              'iam:GetInstanceProfile',
              'iam:ListInstanceProfiles',
            ],
            Resource: '*',
          },
          {
            Sid: 'InterruptionQueue',
            Effect: 'Allow',
            Action: ['sqs:DeleteMessage', 'sqs:GetQueueUrl', 'sqs:ReceiveMessage'],
            Resource: queue.arn,
          },
          {
            Sid: 'ClusterEndpoint',
            Effect: 'Allow',
            Action: 'eks:DescribeCluster',
            Resource: cluster.arn,
          },
        ],
      }),
    );

    const k8sOpts = { parent: this, provider: cluster.provider };
    const release = new k8s.helm.v3.Release(
      name,
      {
        name: 'karpenter',
        chart: 'oci://public.ecr.aws/karpenter/karpenter',
        version: config.chartVersion,
        namespace: karpenterNamespace,
        atomic: true,
        values: withPinnedImages('karpenter', config.chartVersion, {
          serviceAccount: {
            name: serviceAccount,
            annotations: { 'eks.amazonaws.com/role-arn': this.controllerRole.arn },
          },
          settings: {
            clusterName: cluster.name,
            clusterEndpoint: cluster.endpoint,
            interruptionQueue: queue.name,
          },
          controller: {
            resources: {
              requests: { cpu: '250m', memory: '512Mi' },
              limits: { cpu: '1', memory: '1Gi' },
            },
          },
        }),
      },
      { ...k8sOpts, dependsOn: [nodeAccess] },
    );

    const nodeClass = new k8s.apiextensions.CustomResource(
      `${name}-nodeclass`,
      {
        apiVersion: 'karpenter.k8s.aws/v1',
        kind: 'EC2NodeClass',
        metadata: { name: karpenterNodePool },
        spec: {
          role: this.nodeRole.name,
          // Amazon Linux 2023 at the EKS-optimised release AWS publishes; Karpenter drifts nodes to
          // a new release within the NodePool's disruption budget.
          amiSelectorTerms: [{ alias: 'al2023@latest' }],
          subnetSelectorTerms: network.privateSubnetIds.map((id) => ({ id })),
          securityGroupSelectorTerms: [{ id: cluster.securityGroupId }],
          blockDeviceMappings: [
            {
              deviceName: '/dev/xvda',
              ebs: { volumeSize: `${args.nodeDiskGb}Gi`, volumeType: 'gp3', encrypted: true },
            },
          ],
          metadataOptions: {
            httpEndpoint: 'enabled',
            httpTokens: 'required',
            httpPutResponseHopLimit: 1,
          },
        },
      },
      { ...k8sOpts, dependsOn: [release] },
    );
    new k8s.apiextensions.CustomResource(
      `${name}-nodepool`,
      {
        apiVersion: 'karpenter.sh/v1',
        kind: 'NodePool',
        metadata: { name: karpenterNodePool },
        spec: {
          template: {
            spec: {
              nodeClassRef: {
                group: 'karpenter.k8s.aws',
                kind: 'EC2NodeClass',
                name: nodeClass.metadata.name,
              },
              requirements: [
                {
                  key: 'karpenter.k8s.aws/instance-category',
                  operator: 'In',
                  values: config.instanceCategories,
                },
                { key: 'karpenter.k8s.aws/instance-generation', operator: 'Gt', values: ['5'] },
                { key: 'karpenter.sh/capacity-type', operator: 'In', values: ['on-demand'] },
                { key: 'kubernetes.io/arch', operator: 'In', values: ['amd64'] },
              ],
              expireAfter: '720h',
            },
          },
          limits: { cpu: String(config.cpuLimit), memory: `${config.memoryLimitGi}Gi` },
          disruption: {
            consolidationPolicy: 'WhenEmptyOrUnderutilized',
            consolidateAfter: '5m',
            budgets: [{ nodes: '10%' }],
          },
        },
      },
      { ...k8sOpts, dependsOn: [release] },
    );
    this.registerOutputs({});
  }
}
