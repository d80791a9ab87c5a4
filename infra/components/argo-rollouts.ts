import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import type { StackConfig } from '../config/stack-config';
import { afterMonitoringCrds, type MonitoringCrds } from '../observability/monitoring-crds';
import type { ClusterHandle } from './cluster';
import { withPinnedImages } from '../charts/chart-images';

export interface ArgoRolloutsArgs {
  config: StackConfig['rollouts'];
  cluster: ClusterHandle;
  /** Two controllers (leader election) with a budget where nodes are drained (EKS). */
  highlyAvailable: boolean;
  /** The chart's ServiceMonitor needs the monitoring CRDs installed first. */
  monitoring: MonitoringCrds;
}

export const argoRolloutsNamespace = 'argo-rollouts';

/**
 * The Argo Rollouts controller and its CRDs (Rollout, AnalysisTemplate, AnalysisRun, Experiment):
 * what runs the API's canary and rolls it back when the SLO analysis fails. Every Rollout or
 * AnalysisTemplate must be ordered after `crdsInstalled`, or the API server rejects its kind.
 */
export class ArgoRollouts extends pulumi.ComponentResource {
  readonly crdsInstalled: k8s.helm.v3.Release;

  constructor(name: string, args: ArgoRolloutsArgs, opts?: pulumi.ComponentResourceOptions) {
    super('rag-platform:delivery:ArgoRollouts', name, {}, opts);
    const { config, cluster, highlyAvailable } = args;
    this.crdsInstalled = new k8s.helm.v3.Release(
      name,
      {
        name: 'argo-rollouts',
        chart: 'argo-rollouts',
        version: config.chartVersion,
        repositoryOpts: { repo: 'https://argoproj.github.io/argo-helm' },
        namespace: argoRolloutsNamespace,
        createNamespace: true,
        atomic: true,
        values: withPinnedImages('argo-rollouts', config.chartVersion, {
          installCRDs: true,
          // An uninstall must not delete the CRDs: that would delete every Rollout, and its pods.
          keepCRDs: true,
          controller: {
            replicas: highlyAvailable ? 2 : 1,
            // templates/controller/poddisruptionbudget.yaml writes minAvailable when set, else
            // maxUnavailable, else minAvailable 0: one bound, and only with two replicas.
            pdb: { enabled: highlyAvailable, minAvailable: 1 },
            resources: {
              requests: { cpu: '50m', memory: '128Mi' },
              limits: { memory: '512Mi' },
            },
            metrics: { enabled: true, serviceMonitor: { enabled: true } },
          },
          dashboard: { enabled: false },
        }),
      },
      afterMonitoringCrds(args.monitoring, { parent: this, provider: cluster.provider }),
    );
    this.registerOutputs({});
  }
}
