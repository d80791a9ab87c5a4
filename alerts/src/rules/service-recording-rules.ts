import { metrics } from '../../../catalog/metrics/metric-catalog';
import { hsel, sel } from '../../../catalog/promql/selector';
import type { RecordingRule } from './rule-model';

// Pre-aggregated series for dashboards and ad-hoc debugging, named level:metric:operations
// (https://prometheus.io/docs/practices/rules/): the level is the labels kept, the metric the
// catalog name without _total, the operations what was applied, newest last.

export const serviceRecordingGroup = 'rag-service-recordings';
const w = '5m';

function quantileRules(
  level: string,
  by: string,
  bucket: string,
  metricName: string,
): RecordingRule[] {
  return [0.5, 0.95, 0.99].map((q) => ({
    record: `${level}:${metricName}:p${Math.round(q * 100)}_rate${w}`,
    expr: `histogram_quantile(${q}, sum by (${by}, le) (rate(${bucket}[${w}])))`,
  }));
}

export function serviceRecordingRules(): RecordingRule[] {
  const requests = sel(metrics.httpRequests);
  const errors = sel(metrics.httpRequests, { status_code: { re: '5..' } });
  const cache = sel(metrics.cacheRequests);
  const hits = sel(metrics.cacheRequests, { result: 'hit' });
  const byRoute = 'job, route, method';
  return [
    {
      record: 'job_route_method:rag_http_requests:rate5m',
      expr: `sum by (${byRoute}) (rate(${requests}[${w}]))`,
    },
    {
      // Zero rather than absent for routes without server errors, so ratios stay defined.
      record: 'job_route_method:rag_http_requests_5xx:rate5m',
      expr:
        `sum by (${byRoute}) (rate(${errors}[${w}]))` +
        ` or sum by (${byRoute}) (rate(${requests}[${w}])) * 0`,
    },
    {
      record: 'job_route_method:rag_http_requests_5xx:ratio_rate5m',
      expr:
        'job_route_method:rag_http_requests_5xx:rate5m' +
        ' / job_route_method:rag_http_requests:rate5m',
    },
    ...quantileRules(
      'job_route_method',
      byRoute,
      hsel(metrics.httpRequestDuration, '_bucket'),
      'rag_http_request_duration_seconds',
    ),
    ...quantileRules(
      'job_stage',
      'job, stage',
      hsel(metrics.stageDuration, '_bucket'),
      'rag_stage_duration_seconds',
    ),
    {
      record: 'job_cache:rag_cache_hits:ratio_rate5m',
      expr:
        `(sum by (job, cache) (rate(${hits}[${w}])) or sum by (job, cache) (rate(${cache}[${w}])) * 0)` +
        ` / sum by (job, cache) (rate(${cache}[${w}]))`,
    },
    {
      record: 'job:rag_ingested_chunks:rate5m',
      expr: `sum by (job) (rate(${sel(metrics.ingestedChunks)}[${w}]))`,
    },
    {
      record: 'job_outcome:rag_ingest_jobs:rate5m',
      expr: `sum by (job, outcome) (rate(${sel(metrics.ingestJobs)}[${w}]))`,
    },
    ...quantileRules('job', 'job', hsel(metrics.ingestLag, '_bucket'), 'rag_ingest_lag_seconds'),
    {
      record: 'job_target:rag_db_reads:rate5m',
      expr: `sum by (job, target) (rate(${sel(metrics.dbReads)}[${w}]))`,
    },
  ];
}
