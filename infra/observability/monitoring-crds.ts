import type * as pulumi from '@pulumi/pulumi';

/**
 * Whatever installs the monitoring.coreos.com CRDs (ServiceMonitor, PodMonitor, Probe,
 * PrometheusRule): the kube-prometheus-stack release. Helm and the API server reject objects of a
 * kind whose CRD does not exist yet, and an atomic release then rolls back, so a first `pulumi up`
 * fails unless everything using these kinds is ordered after it.
 */
export interface MonitoringCrds {
  readonly crdsInstalled: pulumi.Resource;
}

/** Options whose dependsOn is known now (resources, not outputs), so the list can be extended. */
type WithDependsOn = pulumi.CustomResourceOptions & {
  dependsOn?: pulumi.Resource | pulumi.Resource[];
};

/**
 * Resource options for an object of a monitoring.coreos.com kind, or a Helm release whose values
 * enable one (a chart's `serviceMonitor.enabled`, an operator's `enablePodMonitor`): the given
 * options plus a dependency on the CRDs' release.
 */
export function afterMonitoringCrds<T extends WithDependsOn>(
  crds: MonitoringCrds,
  opts: T,
): T & { dependsOn: pulumi.Resource[] } {
  const existing: pulumi.Resource[] =
    opts.dependsOn === undefined ? [] : ([] as pulumi.Resource[]).concat(opts.dependsOn);
  return { ...opts, dependsOn: [...existing, crds.crdsInstalled] };
}
