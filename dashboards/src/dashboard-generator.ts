import type { Generator } from '../../catalog/generation';
import { datastoresDashboard } from './datastores';
import { onCallHomeDashboard } from './on-call-home';
import { ragPipelineDashboard } from './rag-pipeline';
import { serviceOverviewDashboard } from './service-overview';
import { sloDashboard } from './slo-error-budget';

// The dashboards, built with the Grafana foundation SDK and written as JSON that the Grafana
// sidecar loads from ConfigMaps (infra/ ships dashboards/generated/*.json).

export function dashboards() {
  return [
    onCallHomeDashboard(),
    serviceOverviewDashboard(),
    ragPipelineDashboard(),
    sloDashboard(),
    datastoresDashboard(),
  ].map((builder) => builder.build());
}

export function dashboardGenerator(): Generator {
  return {
    name: 'grafana dashboards',
    owns: ['dashboards/generated/'],
    generate: () =>
      dashboards().map((d) => ({
        path: `dashboards/generated/${d.uid}.json`,
        content: JSON.stringify(d, null, 2) + '\n',
      })),
  };
}
