import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import type { StackConfig } from '../config/stack-config';
import type { ClusterHandle } from './cluster';
import { withPinnedImages } from '../charts/chart-images';

export interface KedaArgs {
  config: StackConfig['keda'];
  cluster: ClusterHandle;
  /** Two operators (leader election) with a budget where nodes are drained (EKS). */
  highlyAvailable: boolean;
}

export const kedaNamespace = 'keda';

/**
 * KEDA: the ScaledObject CRD and the operator that turns one into an HPA fed by the external
 * metrics API (its own metrics server, external.metrics.k8s.io; metrics-server keeps
 * metrics.k8s.io). ScaledObjects must be ordered after `crdsInstalled`.
 */
export class Keda extends pulumi.ComponentResource {
  readonly crdsInstalled: k8s.helm.v3.Release;

  constructor(name: string, args: KedaArgs, opts?: pulumi.ComponentResourceOptions) {
    super('rag-platform:autoscaling:Keda', name, {}, opts);
    const { config, cluster, highlyAvailable } = args;
    this.crdsInstalled = new k8s.helm.v3.Release(
      name,
      {
        name: 'keda',
        chart: 'keda',
        version: config.chartVersion,
        repositoryOpts: { repo: 'https://kedacore.github.io/charts' },
        namespace: kedaNamespace,
        createNamespace: true,
        atomic: true,
        values: withPinnedImages('keda', config.chartVersion, {
          crds: { install: true },
          operator: { replicaCount: highlyAvailable ? 2 : 1 },
          // templates/manager/poddisruptionbudget.yaml writes each bound that is set: one only,
          // and only where there is a second operator to take over.
          podDisruptionBudget: highlyAvailable ? { operator: { minAvailable: 1 } } : {},
          resources: {
            operator: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '512Mi' } },
            metricServer: {
              requests: { cpu: '100m', memory: '128Mi' },
              limits: { memory: '512Mi' },
            },
            webhooks: { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '256Mi' } },
          },
        }),
      },
      { parent: this, provider: cluster.provider },
    );
    this.registerOutputs({});
  }
}
