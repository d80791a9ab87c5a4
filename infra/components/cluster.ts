import * as aws from '@pulumi/aws';
import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import type { AwsStackConfig, DevStackConfig } from '../config/stack-config';
import type { Network } from './network';

/** What every in-cluster component needs, whichever cluster it runs on. */
export interface ClusterHandle {
  readonly name: pulumi.Output<string>;
  readonly provider: k8s.Provider;
  /** Kubeconfig (secret); empty on the dev stack, which uses the caller's own. */
  readonly kubeconfig: pulumi.Output<string>;
  readonly storageClassName: pulumi.Input<string> | undefined;
  /** IAM role for a Kubernetes service account (IRSA); undefined where there is no AWS. */
  serviceAccountRole?(
    name: string,
    namespace: string,
    serviceAccount: string,
    policy: pulumi.Input<string>,
  ): aws.iam.Role;
}

export interface EksClusterArgs {
  config: AwsStackConfig['cluster'];
  network: Network;
  /** Retention of the control-plane log group. */
  logRetentionDays: number;
}

const assumeRole = (service: string) =>
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { Service: service }, Action: 'sts:AssumeRole' }],
  });

/**
 * EKS with managed nodes in the private subnets, KMS envelope encryption of Secrets, every
 * control-plane log type, OIDC for IRSA, the EBS CSI driver (gp3 volumes) and a Kubernetes provider
 * built from the cluster's own kubeconfig.
 */
export class EksCluster extends pulumi.ComponentResource implements ClusterHandle {
  readonly name: pulumi.Output<string>;
  readonly provider: k8s.Provider;
  readonly kubeconfig: pulumi.Output<string>;
  readonly storageClassName = 'gp3-encrypted';
  readonly securityGroupId: pulumi.Output<string>;
  readonly endpoint: pulumi.Output<string>;
  readonly arn: pulumi.Output<string>;
  readonly oidcProviderArn: pulumi.Output<string>;
  private readonly oidcIssuer: pulumi.Output<string>;

  constructor(name: string, args: EksClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super('rag-platform:cluster:EksCluster', name, {}, opts);
    const parent = { parent: this };
    const { config, network } = args;

    const secretsKey = new aws.kms.Key(
      `${name}-secrets`,
      {
        description: `${name}: envelope encryption of Kubernetes Secrets`,
        enableKeyRotation: true,
        deletionWindowInDays: 30,
      },
      parent,
    );

    const clusterRole = new aws.iam.Role(
      `${name}-cluster`,
      { assumeRolePolicy: assumeRole('eks.amazonaws.com') },
      parent,
    );
    const clusterPolicy = new aws.iam.RolePolicyAttachment(
      `${name}-cluster`,
      {
        role: clusterRole.name,
        policyArn: 'arn:aws:iam::aws:policy/AmazonEKSClusterPolicy',
      },
      parent,
    );

    // Envelope encryption: the control plane encrypts and decrypts Secrets' data keys with the CMK
    // as the cluster role; the managed AmazonEKSClusterPolicy grants nothing on customer keys.
    const clusterKeyAccess = new aws.iam.RolePolicy(
      `${name}-cluster-secrets-key`,
      {
        role: clusterRole.id,
        policy: pulumi.jsonStringify({
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:ListGrants', 'kms:DescribeKey'],
              Resource: secretsKey.arn,
            },
          ],
        }),
      },
      parent,
    );

    // EKS writes control-plane logs to this group, creating it without retention if it is
    // missing: it must exist, with retention, before the cluster does.
    const controlPlaneLogs = new aws.cloudwatch.LogGroup(
      `${name}-control-plane`,
      { name: `/aws/eks/${name}/cluster`, retentionInDays: args.logRetentionDays },
      parent,
    );
    const cluster = new aws.eks.Cluster(
      name,
      {
        // Named exactly: the log group above is named after it.
        name,
        version: config.version,
        // At the end of standard support AWS upgrades the cluster instead of silently moving it
        // to (billed) extended support; the version test fails well before that date.
        upgradePolicy: { supportType: 'STANDARD' },
        roleArn: clusterRole.arn,
        vpcConfig: {
          subnetIds: network.privateSubnetIds,
          endpointPrivateAccess: true,
          endpointPublicAccess: config.publicAccessCidrs.length > 0,
          publicAccessCidrs:
            config.publicAccessCidrs.length > 0 ? config.publicAccessCidrs : undefined,
        },
        encryptionConfig: { provider: { keyArn: secretsKey.arn }, resources: ['secrets'] },
        enabledClusterLogTypes: ['api', 'audit', 'authenticator', 'controllerManager', 'scheduler'],
        accessConfig: { authenticationMode: 'API', bootstrapClusterCreatorAdminPermissions: false },
      },
      { parent: this, dependsOn: [clusterPolicy, clusterKeyAccess, controlPlaneLogs] },
    );

    const adminAccess = config.adminRoleArns.map((principalArn, i) => {
      const entry = new aws.eks.AccessEntry(
        `${name}-admin-${i}`,
        { clusterName: cluster.name, principalArn },
        parent,
      );
      return new aws.eks.AccessPolicyAssociation(
        `${name}-admin-${i}`,
        {
          clusterName: cluster.name,
          principalArn,
          policyArn: 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy',
          accessScope: { type: 'cluster' },
        },
        { parent: this, dependsOn: [entry] },
      );
    });

    const oidc = new aws.iam.OpenIdConnectProvider(
      `${name}-oidc`,
      {
        url: cluster.identities.apply((ids) => ids[0].oidcs[0].issuer),
        clientIdLists: ['sts.amazonaws.com'],
      },
      parent,
    );
    this.oidcProviderArn = oidc.arn;
    this.oidcIssuer = oidc.url;

    // Before the nodes: they get pod networking from a CNI already running with its own role.
    const cniRole = this.serviceAccountRole(`${name}-vpc-cni`, 'kube-system', 'aws-node', '');
    const cniPolicy = new aws.iam.RolePolicyAttachment(
      `${name}-vpc-cni`,
      { role: cniRole.name, policyArn: 'arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy' },
      parent,
    );
    // The VPC CNI enforces NetworkPolicy only with its policy agent enabled; without this every
    // default-deny policy the workloads declare would be accepted and silently ignored.
    const cniAddon = new aws.eks.Addon(
      `${name}-vpc-cni`,
      {
        clusterName: cluster.name,
        addonName: 'vpc-cni',
        addonVersion: config.addons.vpcCni,
        serviceAccountRoleArn: cniRole.arn,
        configurationValues: JSON.stringify({ enableNetworkPolicy: 'true' }),
        // Adopts the CNI EKS installs with every cluster.
        resolveConflictsOnCreate: 'OVERWRITE',
        resolveConflictsOnUpdate: 'OVERWRITE',
      },
      { parent: this, dependsOn: [cniPolicy] },
    );

    const nodeRole = new aws.iam.Role(
      `${name}-nodes`,
      { assumeRolePolicy: assumeRole('ec2.amazonaws.com') },
      parent,
    );
    // No CNI policy on the nodes: the VPC CNI gets it through its own IRSA role (above), so
    // every pod on the node does not hold ENI and IP management rights through the node role.
    const nodePolicies = [
      'arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy',
      'arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly',
    ].map(
      (policyArn, i) =>
        new aws.iam.RolePolicyAttachment(
          `${name}-nodes-${i}`,
          { role: nodeRole.name, policyArn },
          parent,
        ),
    );

    const nodeTemplate = new aws.ec2.LaunchTemplate(
      `${name}-nodes`,
      {
        blockDeviceMappings: [
          {
            deviceName: '/dev/xvda',
            ebs: {
              volumeSize: config.nodeDiskGb,
              volumeType: 'gp3',
              encrypted: 'true',
              deleteOnTermination: 'true',
            },
          },
        ],
        // IMDSv2 only, one hop: pods cannot borrow the node's role; they get their own through IRSA.
        metadataOptions: {
          httpEndpoint: 'enabled',
          httpTokens: 'required',
          httpPutResponseHopLimit: 1,
        },
      },
      parent,
    );

    const nodes = new aws.eks.NodeGroup(
      `${name}-default`,
      {
        clusterName: cluster.name,
        nodeRoleArn: nodeRole.arn,
        subnetIds: network.privateSubnetIds,
        instanceTypes: config.nodeInstanceTypes,
        capacityType: 'ON_DEMAND',
        scalingConfig: {
          minSize: config.nodeMinSize,
          desiredSize: config.nodeDesiredSize,
          maxSize: config.nodeMaxSize,
        },
        updateConfig: { maxUnavailable: 1 },
        launchTemplate: {
          id: nodeTemplate.id,
          version: pulumi.interpolate`${nodeTemplate.latestVersion}`,
        },
      },
      {
        parent: this,
        dependsOn: [...nodePolicies, cniAddon],
        ignoreChanges: ['scalingConfig.desiredSize'],
      },
    );

    this.name = cluster.name;
    this.securityGroupId = cluster.vpcConfig.clusterSecurityGroupId;
    this.endpoint = cluster.endpoint;
    this.arn = cluster.arn;
    this.kubeconfig = pulumi.secret(
      pulumi
        .all([cluster.name, cluster.endpoint, cluster.certificateAuthority.data])
        .apply(([clusterName, endpoint, ca]) =>
          eksKubeconfig(clusterName, endpoint, ca, aws.config.region ?? ''),
        ),
    );

    const ebsRole = this.serviceAccountRole(
      `${name}-ebs-csi`,
      'kube-system',
      'ebs-csi-controller-sa',
      '',
    );
    new aws.iam.RolePolicyAttachment(
      `${name}-ebs-csi`,
      {
        role: ebsRole.name,
        policyArn: 'arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy',
      },
      parent,
    );
    const ebsAddon = new aws.eks.Addon(
      `${name}-ebs-csi`,
      {
        clusterName: cluster.name,
        addonName: 'aws-ebs-csi-driver',
        addonVersion: config.addons.ebsCsiDriver,
        serviceAccountRoleArn: ebsRole.arn,
        resolveConflictsOnUpdate: 'OVERWRITE',
      },
      { parent: this, dependsOn: [nodes] },
    );

    // The CRDs of kube-prometheus-stack exceed the annotation size client-side apply needs.
    // The deployer is authorised only through its access entry, so wait for those too.
    this.provider = new k8s.Provider(
      `${name}-k8s`,
      { kubeconfig: this.kubeconfig, enableServerSideApply: true },
      { parent: this, dependsOn: [nodes, ...adminAccess] },
    );

    new k8s.storage.v1.StorageClass(
      `${name}-gp3`,
      {
        metadata: {
          name: this.storageClassName,
          annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' },
        },
        provisioner: 'ebs.csi.aws.com',
        // Encrypted with the account's EBS key: the CSI driver's managed policy has no grant on CMKs.
        parameters: { type: 'gp3', encrypted: 'true' },
        reclaimPolicy: 'Retain',
        volumeBindingMode: 'WaitForFirstConsumer',
        allowVolumeExpansion: true,
      },
      { parent: this, provider: this.provider, dependsOn: [ebsAddon] },
    );

    this.registerOutputs({ name: this.name });
  }

  serviceAccountRole(
    name: string,
    namespace: string,
    serviceAccount: string,
    policy: pulumi.Input<string>,
  ): aws.iam.Role {
    const trust = pulumi.all([this.oidcProviderArn, this.oidcIssuer]).apply(([arn, issuer]) => {
      const host = issuer.replace(/^https:\/\//, '');
      return JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { Federated: arn },
            Action: 'sts:AssumeRoleWithWebIdentity',
            Condition: {
              StringEquals: {
                [`${host}:sub`]: `system:serviceaccount:${namespace}:${serviceAccount}`,
                [`${host}:aud`]: 'sts.amazonaws.com',
              },
            },
          },
        ],
      });
    });
    const role = new aws.iam.Role(name, { assumeRolePolicy: trust }, { parent: this });
    if (policy !== '') new aws.iam.RolePolicy(name, { role: role.id, policy }, { parent: this });
    return role;
  }
}

function eksKubeconfig(clusterName: string, endpoint: string, ca: string, region: string): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      { name: clusterName, cluster: { server: endpoint, 'certificate-authority-data': ca } },
    ],
    contexts: [{ name: clusterName, context: { cluster: clusterName, user: clusterName } }],
    'current-context': clusterName,
    users: [
      {
        name: clusterName,
        user: {
          exec: {
            apiVersion: 'client.authentication.k8s.io/v1beta1',
            command: 'aws',
            args: [
              'eks',
              'get-token',
              '--cluster-name',
              clusterName,
              ...(region ? ['--region', region] : []),
            ],
          },
        },
      },
    ],
  });
}

/** The dev stack: whatever cluster the current kubeconfig (or the configured context) points at. */
export class ExistingCluster extends pulumi.ComponentResource implements ClusterHandle {
  readonly name: pulumi.Output<string>;
  readonly provider: k8s.Provider;
  readonly kubeconfig = pulumi.secret(pulumi.output(''));
  readonly storageClassName: string | undefined;

  constructor(
    name: string,
    config: DevStackConfig['cluster'],
    opts?: pulumi.ComponentResourceOptions,
  ) {
    super('rag-platform:cluster:ExistingCluster', name, {}, opts);
    this.storageClassName = config.storageClassName;
    this.name = pulumi.output(config.kubeContext ?? 'current-context');
    this.provider = new k8s.Provider(
      name,
      { context: config.kubeContext, enableServerSideApply: true },
      { parent: this },
    );
    this.registerOutputs({ name: this.name });
  }
}
