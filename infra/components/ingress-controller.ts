import * as aws from '@pulumi/aws';
import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import type { EksCluster } from './cluster';
import type { Network } from './network';
import { withPinnedImages } from '../charts/chart-images';

export interface LoadBalancerControllerArgs {
  cluster: EksCluster;
  network: Network;
  chartVersion: string;
}

export const loadBalancerControllerNamespace = 'kube-system';
const serviceAccount = 'aws-load-balancer-controller';
/** The IngressClass the controller creates; AWS stacks' Ingresses name it. */
export const albIngressClass = 'alb';

/**
 * The AWS Load Balancer Controller (maintained by AWS; ingress-nginx was retired upstream in
 * March 2026): each Ingress of class `alb` becomes an Application Load Balancer that terminates
 * TLS with ACM and sends traffic straight to pod IPs. Its AWS rights come through its own IRSA
 * role, scoped to the load balancers and security groups it tags as its own.
 */
export class LoadBalancerController extends pulumi.ComponentResource {
  constructor(
    name: string,
    args: LoadBalancerControllerArgs,
    opts?: pulumi.ComponentResourceOptions,
  ) {
    super('rag-platform:ingress:LoadBalancerController', name, {}, opts);
    const { cluster, network } = args;
    const owned = { 'aws:ResourceTag/elbv2.k8s.aws/cluster': 'false' };
    const creating = { 'aws:RequestTag/elbv2.k8s.aws/cluster': 'false' };
    const role = cluster.serviceAccountRole(
      `${name}-controller`,
      loadBalancerControllerNamespace,
      serviceAccount,
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'ServiceLinkedRole',
            Effect: 'Allow',
            Action: 'iam:CreateServiceLinkedRole',
            Resource: '*',
            Condition: {
              StringEquals: { 'iam:AWSServiceName': 'elasticloadbalancing.amazonaws.com' },
            },
          },
          {
            Sid: 'Discover',
            Effect: 'Allow',
            Action: [
              'ec2:DescribeAccountAttributes',
              'ec2:DescribeAddresses',
              'ec2:DescribeAvailabilityZones',
              'ec2:DescribeInternetGateways',
              'ec2:DescribeVpcs',
              'ec2:DescribeVpcPeeringConnections',
              'ec2:DescribeSubnets',
              'ec2:DescribeSecurityGroups',
              'ec2:DescribeInstances',
              'ec2:DescribeNetworkInterfaces',
              'ec2:DescribeTags',
              'ec2:DescribeCoipPools',
              'ec2:GetCoipPoolUsage',
              'ec2:DescribeRouteTables',
              'ec2:GetSecurityGroupsForVpc',
              'elasticloadbalancing:Describe*',
              'acm:ListCertificates',
              'acm:DescribeCertificate',
              'wafv2:GetWebACL',
              'wafv2:GetWebACLForResource',
              'shield:GetSubscriptionState',
            ],
            Resource: '*',
          },
          {
            Sid: 'CreateOwnSecurityGroupsAndLoadBalancers',
            Effect: 'Allow',
            Action: [
              'ec2:CreateSecurityGroup',
              'elasticloadbalancing:CreateLoadBalancer',
              'elasticloadbalancing:CreateTargetGroup',
            ],
            Resource: '*',
            Condition: { Null: creating },
          },
          {
            Sid: 'TagSecurityGroupsOnCreate',
            Effect: 'Allow',
            Action: 'ec2:CreateTags',
            Resource: '*',
            Condition: {
              StringEquals: { 'ec2:CreateAction': 'CreateSecurityGroup' },
              Null: creating,
            },
          },
          {
            Sid: 'TagLoadBalancersOnCreate',
            Effect: 'Allow',
            Action: 'elasticloadbalancing:AddTags',
            Resource: '*',
            Condition: {
              StringEquals: {
                'elasticloadbalancing:CreateAction': ['CreateTargetGroup', 'CreateLoadBalancer'],
              },
              Null: creating,
            },
          },
          {
            Sid: 'ManageOwnResources',
            Effect: 'Allow',
            Action: [
              'ec2:AuthorizeSecurityGroupIngress',
              'ec2:RevokeSecurityGroupIngress',
              'ec2:DeleteSecurityGroup',
              'ec2:CreateTags',
              'ec2:DeleteTags',
              'elasticloadbalancing:ModifyLoadBalancerAttributes',
              'elasticloadbalancing:SetIpAddressType',
              'elasticloadbalancing:SetSecurityGroups',
              'elasticloadbalancing:SetSubnets',
              'elasticloadbalancing:DeleteLoadBalancer',
              'elasticloadbalancing:ModifyTargetGroup',
              'elasticloadbalancing:ModifyTargetGroupAttributes',
              'elasticloadbalancing:DeleteTargetGroup',
              'elasticloadbalancing:AddTags',
              'elasticloadbalancing:RemoveTags',
              'elasticloadbalancing:RegisterTargets',
              'elasticloadbalancing:DeregisterTargets',
            ],
            Resource: '*',
            Condition: { Null: owned },
          },
          {
            Sid: 'ListenersAndRules',
            Effect: 'Allow',
            Action: [
              'elasticloadbalancing:CreateListener',
              'elasticloadbalancing:DeleteListener',
              'elasticloadbalancing:CreateRule',
              'elasticloadbalancing:DeleteRule',
              'elasticloadbalancing:ModifyListener',
              'elasticloadbalancing:ModifyRule',
              'elasticloadbalancing:AddListenerCertificates',
              'elasticloadbalancing:RemoveListenerCertificates',
              'elasticloadbalancing:SetWebAcl',
              'wafv2:AssociateWebACL',
              'wafv2:DisassociateWebACL',
            ],
            Resource: '*',
          },
        ],
      }),
    );

    new k8s.helm.v3.Release(
      name,
      {
        name: 'aws-load-balancer-controller',
        chart: 'aws-load-balancer-controller',
        version: args.chartVersion,
        repositoryOpts: { repo: 'https://aws.github.io/eks-charts' },
        namespace: loadBalancerControllerNamespace,
        atomic: true,
        values: withPinnedImages('aws-load-balancer-controller', args.chartVersion, {
          clusterName: cluster.name,
          region: aws.config.region,
          vpcId: network.vpcId,
          replicaCount: 2,
          serviceAccount: {
            name: serviceAccount,
            annotations: { 'eks.amazonaws.com/role-arn': role.arn },
          },
          ingressClass: albIngressClass,
          createIngressClassResource: true,
          // Pods are targets directly: no NodePort hop, and NetworkPolicy sees the ALB's address.
          defaultTargetType: 'ip',
          defaultSSLPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06',
          podDisruptionBudget: { maxUnavailable: 1 },
          resources: {
            requests: { cpu: '100m', memory: '128Mi' },
            limits: { cpu: '500m', memory: '256Mi' },
          },
        }),
      },
      { parent: this, provider: cluster.provider },
    );
    this.registerOutputs({});
  }
}

/**
 * The ALB's idle timeout (AWS's default, stated so it cannot drift unseen). The service's
 * HTTP_KEEP_ALIVE_TIMEOUT_MS must exceed it: a server that closes an idle connection first races
 * the ALB reusing it, and that request fails with a reset (502 at the ALB).
 */
export const albIdleTimeoutSeconds = 60;

/**
 * Annotations of an internet-facing ALB Ingress: HTTPS with the ACM certificate, HTTP answered
 * with a redirect, and X-Forwarded-For replaced (not appended to) by the ALB, so the client
 * address the service sees comes from the load balancer and never from the client.
 */
export function albIngressAnnotations(certificateArn: string): Record<string, string> {
  return {
    'alb.ingress.kubernetes.io/scheme': 'internet-facing',
    'alb.ingress.kubernetes.io/target-type': 'ip',
    'alb.ingress.kubernetes.io/certificate-arn': certificateArn,
    'alb.ingress.kubernetes.io/listen-ports': '[{"HTTP": 80}, {"HTTPS": 443}]',
    'alb.ingress.kubernetes.io/ssl-redirect': '443',
    'alb.ingress.kubernetes.io/ssl-policy': 'ELBSecurityPolicy-TLS13-1-2-2021-06',
    'alb.ingress.kubernetes.io/healthcheck-path': '/readyz',
    'alb.ingress.kubernetes.io/load-balancer-attributes':
      'routing.http.xff_header_processing.mode=replace,' +
      'routing.http.drop_invalid_header_fields.enabled=true,' +
      `idle_timeout.timeout_seconds=${albIdleTimeoutSeconds}`,
  };
}
