import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import type { ClusterHandle } from './cluster';

export interface IngressControllerArgs {
  cluster: ClusterHandle;
  /** ACM certificate the network load balancer terminates TLS with. */
  certificateArn: string;
}

export const ingressNamespace = 'ingress-nginx';

/**
 * ingress-nginx behind an AWS network load balancer that terminates TLS with ACM (the in-tree
 * cloud provider creates it; no extra IAM). The dev stack brings its own controller.
 */
export class IngressController extends pulumi.ComponentResource {
  constructor(name: string, args: IngressControllerArgs, opts?: pulumi.ComponentResourceOptions) {
    super('rag-platform:ingress:IngressController', name, {}, opts);
    new k8s.helm.v3.Release(
      name,
      {
        name: 'ingress-nginx',
        chart: 'ingress-nginx',
        version: '4.13.3',
        repositoryOpts: { repo: 'https://kubernetes.github.io/ingress-nginx' },
        namespace: ingressNamespace,
        createNamespace: true,
        atomic: true,
        values: {
          controller: {
            replicaCount: 2,
            ingressClassResource: { name: 'nginx', default: true },
            config: { 'use-forwarded-headers': 'true', 'ssl-redirect': 'false' },
            service: {
              annotations: {
                'service.beta.kubernetes.io/aws-load-balancer-type': 'nlb',
                'service.beta.kubernetes.io/aws-load-balancer-ssl-cert': args.certificateArn,
                'service.beta.kubernetes.io/aws-load-balancer-ssl-ports': 'https',
                'service.beta.kubernetes.io/aws-load-balancer-ssl-negotiation-policy':
                  'ELBSecurityPolicy-TLS13-1-2-2021-06',
              },
              // TLS ends at the NLB; both listeners reach the controller's plain HTTP port.
              targetPorts: { http: 'http', https: 'http' },
            },
            resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
            // The chart's budget keys sit on the controller itself (rendered above one replica).
            minAvailable: 1,
          },
        },
      },
      { parent: this, provider: args.cluster.provider },
    );
    this.registerOutputs({});
  }
}
