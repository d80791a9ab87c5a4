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
  const job = { job: serviceIdentity.job };
  const requests = sel(metrics.httpRequests, job);
  const errors = sel(metrics.httpRequests, { ...job, status_code: { re: '5..' } });
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
      statPanel(
        'Firing alerts by severity',
        'short',
        [{ expr: `count by (severity) (${firing})`, legend: '{{severity}}' }],
        `Alerts of service ${serviceIdentity.service} firing now, by severity (the Watchdog is ` +
          'always one info alert). critical pages, warning files a ticket.',
      ),
    )
    .withPanel(
      statPanel(
        'Dependencies down',
        'short',
        [{ expr: `count(${sel(metrics.dependencyUp, job)} == 0) or vector(0)` }],
        'Dependency checks failing, counted per pod and dependency (rag_dependency_up == 0). ' +
          'Anything above 0: open Datastores to see which one.',
      ),
    )
    .withPanel(
      statPanel(
        'Requests per second',
        'reqps',
        [{ expr: `sum(rate(${requests}[${ri}]))` }],
        'Requests per second the API answers, all routes and pods together.',
      ),
    )
    .withPanel(
      statPanel(
        'Server error ratio',
        'percentunit',
        [
          {
            expr: `(sum(rate(${errors}[${ri}])) or vector(0)) / sum(rate(${requests}[${ri}]))`,
          },
        ],
        'Share of responses that are 5xx, all routes. The availability SLOs allow a small share ' +
          'over their period; the SLO dashboard shows how fast the budget burns.',
      ),
    )
    .withRow(row('Error budgets'));
  for (const slo of slos) {
    d = d.withPanel(
      statPanel(
        `${slo.title}: budget left`,
        'percentunit',
        [{ expr: `${sloSeries.periodErrorBudgetRemaining}{slo="${slo.id}"}` }],
        `Share of the ${slo.periodDays}-day error budget of SLO ${slo.id} not yet spent ` +
          `(objective ${slo.objective * 100}%). Negative: the SLO is already missed this period.`,
      ),
    );
  }
  return d
    .withRow(row('Firing alerts'))
    .withPanel(
      timeSeriesPanel(
        'Firing alerts over time',
        'short',
        [{ expr: `count by (alertname) (${firing})`, legend: '{{alertname}}' }],
        'Firing instances per alert name over the selected time range: what fired, when, and ' +
          'for how long (pending alerts are not shown).',
      ).span(24),
    );
}
