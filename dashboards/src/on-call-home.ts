import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { metrics } from '../../catalog/metrics/metric-catalog';
import { sel, xsel } from '../../catalog/promql/selector';
import { serviceIdentity } from '../../catalog/service-identity';
import { slos } from '../../catalog/slo/slo-definitions';
import { sloSeries } from '../../catalog/slo/slo-series';
import { dashboardUids } from '../../catalog/dashboard-uids';
import { rateInterval as ri, ragDashboard, row, statPanel, timeSeriesPanel } from './panel-kit';

// The first page on-call opens: what is firing, how much budget is left, are dependencies up,
// and a link to every other dashboard.
export function onCallHomeDashboard() {
  const requests = sel(metrics.httpRequests);
  const errors = sel(metrics.httpRequests, { status_code: { re: '5..' } });
  let d = ragDashboard(
    dashboardUids.onCallHome,
    'RAG / On-call home',
    'Start here: firing alerts, error budgets, dependencies, and links to every RAG dashboard.',
  );
  const others: [string, string][] = [
    ['Service overview', dashboardUids.serviceOverview],
    ['Pipeline', dashboardUids.ragPipeline],
    ['SLOs and error budgets', dashboardUids.slo],
    ['Datastores', dashboardUids.datastores],
  ];
  for (const [title, uid] of others) {
    d = d.link(
      new dashboard.DashboardLinkBuilder(title)
        .type(dashboard.DashboardLinkType.Link)
        .url(`/d/${uid}`)
        .includeVars(true)
        .keepTime(true),
    );
  }
  const firing = xsel('ALERTS', { alertstate: 'firing', service: serviceIdentity.service });
  d = d
    .withRow(row('Now'))
    .withPanel(
      statPanel('Firing alerts by severity', 'short', [
        { expr: `count by (severity) (${firing})`, legend: '{{severity}}' },
      ]),
    )
    .withPanel(
      statPanel('Dependencies down', 'short', [
        { expr: `count(${sel(metrics.dependencyUp)} == 0) or vector(0)` },
      ]),
    )
    .withPanel(
      statPanel('Requests per second', 'reqps', [{ expr: `sum(rate(${requests}[${ri}]))` }]),
    )
    .withPanel(
      statPanel('Server error ratio', 'percentunit', [
        {
          expr: `(sum(rate(${errors}[${ri}])) or vector(0)) / sum(rate(${requests}[${ri}]))`,
        },
      ]),
    )
    .withRow(row('Error budgets'));
  for (const slo of slos) {
    d = d.withPanel(
      statPanel(`${slo.title}: budget left`, 'percentunit', [
        { expr: `${sloSeries.periodErrorBudgetRemaining}{slo="${slo.id}"}` },
      ]),
    );
  }
  return d
    .withRow(row('Firing alerts'))
    .withPanel(
      timeSeriesPanel('Firing alerts over time', 'short', [
        { expr: `count by (alertname) (${firing})`, legend: '{{alertname}}' },
      ]).span(24),
    );
}
