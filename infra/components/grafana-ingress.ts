import * as k8s from '@pulumi/kubernetes';
import type * as pulumi from '@pulumi/pulumi';
import type { StackConfig } from '../config/stack-config';
import { albIngressAnnotations } from './ingress-controller';

// Grafana at the host every alert's dashboard_url names (observability.grafanaHost), with TLS as
// the API has it: the ALB terminates with an ACM certificate on AWS, the dev cluster's controller
// uses a secret. On AWS the load balancer is internal: Grafana can query every metric and holds
// an admin login, and on-call already reaches the private network (the production cluster API
// has no public endpoint).

/** The Service the kube-prometheus-stack release (named kube-prometheus-stack) gives Grafana. */
export const grafanaService = { name: 'kube-prometheus-stack-grafana', port: 80 } as const;
export const grafanaIngressName = 'grafana';

export function grafanaIngress(
  name: string,
  args: {
    config: StackConfig['observability'];
    namespace: pulumi.Input<string>;
    ingressClassName: string;
  },
  opts: pulumi.CustomResourceOptions,
): k8s.networking.v1.Ingress {
  const { config } = args;
  const annotations = config.grafanaTlsCertificateArn
    ? {
        ...albIngressAnnotations(config.grafanaTlsCertificateArn),
        'alb.ingress.kubernetes.io/scheme': 'internal',
        'alb.ingress.kubernetes.io/healthcheck-path': '/api/health',
      }
    : undefined;
  return new k8s.networking.v1.Ingress(
    name,
    {
      metadata: { name: grafanaIngressName, namespace: args.namespace, annotations },
      spec: {
        ingressClassName: args.ingressClassName,
        tls: [{ hosts: [config.grafanaHost], secretName: config.grafanaTlsSecretName }],
        rules: [
          {
            host: config.grafanaHost,
            http: {
              paths: [
                {
                  path: '/',
                  pathType: 'Prefix',
                  backend: {
                    service: { name: grafanaService.name, port: { number: grafanaService.port } },
                  },
                },
              ],
            },
          },
        ],
      },
    },
    opts,
  );
}
