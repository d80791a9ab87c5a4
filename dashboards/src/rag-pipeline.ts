import { labelValues, metrics } from '../../catalog/metrics/metric-catalog';
import { hsel, sel } from '../../catalog/promql/selector';
import { dashboardUids } from '../../catalog/dashboard-uids';
import { rateInterval as ri, ragDashboard, row, statPanel, timeSeriesPanel } from './panel-kit';

// Where a query spends its time (stage latencies), how well caches work, and whether ingestion
// keeps up (throughput, queue, dead letters, accepted-to-searchable lag).
export function ragPipelineDashboard() {
  const stageBuckets = hsel(metrics.stageDuration, '_bucket');
  const cache = sel(metrics.cacheRequests);
  const hits = sel(metrics.cacheRequests, { result: 'hit' });
  const lagBuckets = hsel(metrics.ingestLag, '_bucket');
  const jobs = sel(metrics.ingestJobs);
  return ragDashboard(
    dashboardUids.ragPipeline,
    'RAG / Pipeline',
    `Stage latencies (${labelValues.stage.join(', ')}), caches and ingestion.`,
  )
    .withRow(row('Query pipeline'))
    .withPanel(
      timeSeriesPanel('Stage latency p95', 's', [
        {
          expr: `histogram_quantile(0.95, sum by (stage, le) (rate(${stageBuckets}[${ri}])))`,
          legend: '{{stage}}',
        },
      ]),
    )
    .withPanel(
      timeSeriesPanel('Stage latency p50', 's', [
        {
          expr: `histogram_quantile(0.5, sum by (stage, le) (rate(${stageBuckets}[${ri}])))`,
          legend: '{{stage}}',
        },
      ]),
    )
    .withPanel(
      timeSeriesPanel('Cache hit ratio', 'percentunit', [
        {
          expr:
            `(sum by (cache) (rate(${hits}[${ri}])) or sum by (cache) (rate(${cache}[${ri}])) * 0)` +
            ` / sum by (cache) (rate(${cache}[${ri}]))`,
          legend: '{{cache}}',
        },
      ]),
    )
    .withPanel(
      timeSeriesPanel('Cache lookups by result', 'ops', [
        { expr: `sum by (cache, result) (rate(${cache}[${ri}]))`, legend: '{{cache}} {{result}}' },
      ]),
    )
    .withRow(row('Ingestion'))
    .withPanel(
      timeSeriesPanel('Chunks indexed per second', 'ops', [
        { expr: `sum(rate(${sel(metrics.ingestedChunks)}[${ri}]))`, legend: 'chunks' },
      ]),
    )
    .withPanel(
      timeSeriesPanel('Ingestion jobs by outcome', 'ops', [
        { expr: `sum by (outcome) (rate(${jobs}[${ri}]))`, legend: '{{outcome}}' },
      ]),
    )
    .withPanel(
      timeSeriesPanel('Queue depth by state', 'short', [
        { expr: `max by (state) (${sel(metrics.queueDepth)})`, legend: '{{state}}' },
      ]),
    )
    .withPanel(
      timeSeriesPanel('Accepted-to-searchable lag', 's', [
        {
          expr: `histogram_quantile(0.95, sum by (le) (rate(${lagBuckets}[${ri}])))`,
          legend: 'p95',
        },
        {
          expr: `histogram_quantile(0.5, sum by (le) (rate(${lagBuckets}[${ri}])))`,
          legend: 'p50',
        },
      ]),
    )
    .withPanel(
      statPanel('Dead-lettered jobs waiting', 'short', [
        { expr: `max(${sel(metrics.queueDepth, { state: 'dead' })})` },
      ]),
    )
    .withPanel(
      statPanel('Jobs dead-lettered per second', 'ops', [
        // Absent until the first dead letter: show zero, not "No data".
        { expr: `sum(rate(${sel(metrics.ingestJobs, { outcome: 'dead' })}[${ri}])) or vector(0)` },
      ]),
    );
}
