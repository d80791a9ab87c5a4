import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as prometheus from '@grafana/grafana-foundation-sdk/prometheus';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import { dashboardUids } from '../../catalog/dashboard-uids';

// The few panel shapes our dashboards use, so every panel gets a title, a unit, a description
// (what it shows and how to read it, in Grafana's (i) tooltip) and the `$datasource` variable by
// construction (the lint test checks the JSON anyway).

export const datasourceVariable = 'datasource';
export const datasourceRef = { type: 'prometheus', uid: `\${${datasourceVariable}}` };

/** The rate window every rate()/increase() in a panel uses (Grafana expands it per scrape interval). */
export const rateInterval = '$__rate_interval';

export interface Query {
  readonly expr: string;
  readonly legend?: string;
}

function targets(queries: readonly Query[]) {
  return queries.map((q, i) =>
    new prometheus.DataqueryBuilder()
      .datasource(datasourceRef)
      .refId(String.fromCharCode(65 + i))
      .expr(q.expr)
      .legendFormat(q.legend ?? '__auto'),
  );
}

export function timeSeriesPanel(
  title: string,
  unit: string,
  queries: readonly Query[],
  description: string,
) {
  return new timeseries.PanelBuilder()
    .title(title)
    .description(description)
    .unit(unit)
    .datasource(datasourceRef)
    .targets(targets(queries))
    .height(8)
    .span(12);
}

export function statPanel(
  title: string,
  unit: string,
  queries: readonly Query[],
  description: string,
  span = 6,
) {
  return new stat.PanelBuilder()
    .title(title)
    .description(description)
    .unit(unit)
    .datasource(datasourceRef)
    .targets(targets(queries.map((q) => ({ ...q }))).map((t) => t.instant()))
    .height(5)
    .span(span);
}

export function ragDashboard(uid: string, title: string, description: string) {
  return new dashboard.DashboardBuilder(title)
    .uid(uid)
    .description(description)
    .tags(['rag-platform', 'generated'])
    .refresh('30s')
    .time({ from: 'now-3h', to: 'now' })
    .timezone('utc')
    .readonly()
    .withVariable(
      new dashboard.DatasourceVariableBuilder(datasourceVariable)
        .label('Prometheus')
        .type('prometheus'),
    )
    .link(
      new dashboard.DashboardLinkBuilder('RAG dashboards')
        .type(dashboard.DashboardLinkType.Dashboards)
        .tags(['rag-platform'])
        .asDropdown(true)
        .includeVars(true)
        .keepTime(true),
    )
    .link(
      new dashboard.DashboardLinkBuilder('On-call home')
        .type(dashboard.DashboardLinkType.Link)
        .url(`/d/${dashboardUids.onCallHome}`)
        .includeVars(true)
        .keepTime(true),
    );
}

export function row(title: string) {
  return new dashboard.RowBuilder(title);
}
