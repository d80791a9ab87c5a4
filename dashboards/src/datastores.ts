import { metrics } from '../../catalog/metrics/metric-catalog';
import { hsel, sel, xsel } from '../../catalog/promql/selector';
import { dashboardUids } from '../../catalog/dashboard-uids';
import { rateInterval as ri, ragDashboard, row, statPanel, timeSeriesPanel } from './panel-kit';

// Postgres (primary, replicas, lag), Redis and Qdrant: first as rag-api sees them (health checks,
// read routing, stage latency), then from their own exporters.
export function datastoresDashboard() {
  return ragDashboard(
    dashboardUids.datastores,
    'RAG / Datastores',
    'Postgres primary and replicas, Redis and Qdrant, from the service and from their exporters.',
  )
    .withRow(row('As rag-api sees them'))
    .withPanel(
      timeSeriesPanel('Dependency health (1 = up)', 'bool', [
        { expr: `min by (dependency) (${sel(metrics.dependencyUp)})`, legend: '{{dependency}}' },
      ]),
    )
    .withPanel(
      timeSeriesPanel('Replica replay lag', 's', [
        { expr: `max by (replica) (${sel(metrics.replicaLag)})`, legend: '{{replica}}' },
      ]),
    )
    .withPanel(
      timeSeriesPanel(
        'Metadata reads by pool',
        'ops',
        [{ expr: `sum by (target) (rate(${sel(metrics.dbReads)}[${ri}]))`, legend: '{{target}}' }],
        'Reads served by the primary mean replicas are down or lagging.',
      ),
    )
    .withPanel(
      timeSeriesPanel('Datastore stage latency p95', 's', [
        {
          expr: `histogram_quantile(0.95, sum by (stage, le) (rate(${hsel(metrics.stageDuration, '_bucket', { stage: { re: 'db|cache|retrieve' } })}[${ri}])))`,
          legend: '{{stage}}',
        },
      ]),
    )
    .withRow(row('Postgres (postgres_exporter)'))
    .withPanel(statPanel('Postgres instances up', 'short', [{ expr: `sum(${xsel('pg_up')})` }]))
    .withPanel(
      timeSeriesPanel('Connections by database', 'short', [
        {
          expr: `sum by (instance, datname) (${xsel('pg_stat_database_numbackends')})`,
          legend: '{{instance}} {{datname}}',
        },
      ]),
    )
    .withRow(row('Redis (redis_exporter)'))
    .withPanel(statPanel('Redis instances up', 'short', [{ expr: `sum(${xsel('redis_up')})` }]))
    .withPanel(
      timeSeriesPanel('Redis memory used', 'bytes', [
        { expr: `sum by (instance) (${xsel('redis_memory_used_bytes')})`, legend: '{{instance}}' },
      ]),
    )
    .withPanel(
      timeSeriesPanel('Redis clients', 'short', [
        { expr: `sum by (instance) (${xsel('redis_connected_clients')})`, legend: '{{instance}}' },
      ]),
    )
    .withPanel(
      timeSeriesPanel('Redis keyspace hit ratio', 'percentunit', [
        {
          expr:
            `sum(rate(${xsel('redis_keyspace_hits_total')}[${ri}])) / (sum(rate(${xsel('redis_keyspace_hits_total')}[${ri}]))` +
            ` + sum(rate(${xsel('redis_keyspace_misses_total')}[${ri}])))`,
          legend: 'hit ratio',
        },
      ]),
    )
    .withRow(row('Qdrant'))
    .withPanel(
      timeSeriesPanel('Vectors stored', 'short', [
        { expr: `sum(${xsel('collections_vector_total')})`, legend: 'vectors' },
      ]),
    )
    .withPanel(
      timeSeriesPanel('Qdrant REST responses by status', 'reqps', [
        {
          expr: `sum by (status) (rate(${xsel('rest_responses_total')}[${ri}]))`,
          legend: '{{status}}',
        },
      ]),
    )
    .withPanel(statPanel('Collections', 'short', [{ expr: `sum(${xsel('collections_total')})` }]));
}
