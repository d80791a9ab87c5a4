import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import type { StackConfig } from '../config/stack-config';
import type { ClusterHandle } from './cluster';
import { withPinnedImages } from '../charts/chart-images';

export interface MetricsServerArgs {
  config: StackConfig['metricsServer'];
  cluster: ClusterHandle;
  /** Two replicas with a budget where nodes are drained (EKS); one on a local cluster. */
  highlyAvailable: boolean;
}

/**
 * metrics-server: the resource metrics API (metrics.k8s.io) the HPA reads CPU utilisation from.
 * Without it every HPA reports `<unknown>` and never scales. EKS does not run one by itself.
 */
export class MetricsServer extends pulumi.ComponentResource {
  constructor(name: string, args: MetricsServerArgs, opts?: pulumi.ComponentResourceOptions) {
    super('rag-platform:autoscaling:MetricsServer', name, {}, opts);
    const { config, cluster, highlyAvailable } = args;
    new k8s.helm.v3.Release(
      name,
      {
        name: 'metrics-server',
        chart: 'metrics-server',
        version: config.chartVersion,
        repositoryOpts: { repo: 'https://kubernetes-sigs.github.io/metrics-server/' },
        namespace: 'kube-system',
        atomic: true,
        values: withPinnedImages('metrics-server', config.chartVersion, {
          replicas: highlyAvailable ? 2 : 1,
          // The chart's own bounds are both unset: one of them, or no budget at all.
          podDisruptionBudget: { enabled: highlyAvailable, minAvailable: 1 },
          args: config.kubeletInsecureTls ? ['--kubelet-insecure-tls'] : [],
          resources: {
            requests: { cpu: '100m', memory: '200Mi' },
            limits: { memory: '400Mi' },
          },
        }),
      },
      { parent: this, provider: cluster.provider },
    );
    this.registerOutputs({});
  }
}
