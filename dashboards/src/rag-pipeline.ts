import { labelValues, metrics } from '../../catalog/metrics/metric-catalog';
import { hsel, sel } from '../../catalog/promql/selector';
import { dashboardUids } from '../../catalog/dashboard-uids';
import { serviceIdentity } from '../../catalog/service-identity';
import { rateInterval as ri, ragDashboard, row, statPanel, timeSeriesPanel } from './panel-kit';

// Where a query spends its time (stage latencies), how well caches work, and whether ingestion
// keeps up (throughput, queue, dead letters, accepted-to-searchable lag).
export function ragPipelineDashboard() {
  const job = { job: serviceIdentity.job };
  const stageBuckets = hsel(metrics.stageDuration, '_bucket', job);
  const cache = sel(metrics.cacheRequests, job);
  const hits = sel(metrics.cacheRequests, { ...job, result: 'hit' });
  const lagBuckets = hsel(metrics.ingestLag, '_bucket', job);
  const jobs = sel(metrics.ingestJobs, job);
  const queueDepth = (state?: 'dead') => sel(metrics.queueDepth, state ? { ...job, state } : job);
  return ragDashboard(
    dashboardUids.ragPipeline,
    'RAG / Pipeline',
    `Stage latencies (${labelValues.stage.join(', ')}), caches and ingestion.`,
  )
    .withRow(row('Query pipeline'))
    .withPanel(
      timeSeriesPanel(
        'Pipeline dependencies (1 = up)',
        'bool',
        [
          {
            expr: `min by (dependency) (${sel(metrics.dependencyUp, job)})`,
            legend: '{{dependency}}',
          },
        ],
        'Every dependency of the query and ingestion pipeline as the API health checks see it, ' +
          'worst pod. embedder and chat appear only when an endpoint is configured: embedder at 0 ' +
          'means queries answer 503 (EmbedderDown), chat at 0 means answers are extractive ' +
          '(ChatEndpointDown).',
      ),
    )
    .withPanel(
      timeSeriesPanel(
        'Stage latency p95',
        's',
        [
          {
            expr: `histogram_quantile(0.95, sum by (stage, le) (rate(${stageBuckets}[${ri}])))`,
            legend: '{{stage}}',
          },
        ],
        'p95 duration of each query stage (embed, retrieve, generate, db, cache). The stage ' +
          'that rises with the request latency is where to look: embed and generate are the ' +
          'external endpoints, retrieve the vector store.',
      ),
    )
    .withPanel(
      timeSeriesPanel(
        'Stage latency p50',
        's',
        [
          {
            expr: `histogram_quantile(0.5, sum by (stage, le) (rate(${stageBuckets}[${ri}])))`,
            legend: '{{stage}}',
          },
        ],
        'Median duration of each query stage. A p50 that moves with the p95 is a stage slow for ' +
          'everyone; a p95 alone is a tail (retries, cold caches).',
      ),
    )
    .withPanel(
      timeSeriesPanel(
        'Cache hit ratio',
        'percentunit',
        [
          {
            expr:
              `(sum by (cache) (rate(${hits}[${ri}])) or sum by (cache) (rate(${cache}[${ri}])) * 0)` +
              ` / sum by (cache) (rate(${cache}[${ri}]))`,
            legend: '{{cache}}',
          },
        ],
        'Share of lookups answered from cache, for the embedding and the query (answer) cache. ' +
          'Drops after every ingest of a collection (its cached answers are invalidated); a ' +
          'collapse to 0 under traffic means Redis is down or evicting (CacheHitRatioCollapse).',
      ),
    )
    .withPanel(
      timeSeriesPanel(
        'Cache lookups by result',
        'ops',
        [
          {
            expr: `sum by (cache, result) (rate(${cache}[${ri}]))`,
            legend: '{{cache}} {{result}}',
          },
        ],
        'Cache lookups per second by cache and result (hit, miss, error). Errors mean Redis ' +
          'calls fail and the service runs uncached.',
      ),
    )
    .withRow(row('Ingestion'))
    .withPanel(
      timeSeriesPanel(
        'Chunks indexed per second',
        'ops',
        [{ expr: `sum(rate(${sel(metrics.ingestedChunks, job)}[${ri}]))`, legend: 'chunks' }],
        'Chunks the ingestion workers embed and upsert per second, all pods. Zero while the ' +
          'queue holds jobs means the workers are stuck (see the queue depth).',
      ),
    )
    .withPanel(
      timeSeriesPanel(
        'Ingestion jobs by outcome',
        'ops',
        [{ expr: `sum by (outcome) (rate(${jobs}[${ri}]))`, legend: '{{outcome}}' }],
        'Ingestion jobs finishing per second: completed, retried (will run again with backoff) ' +
          'or dead (retries exhausted, see IngestionDeadLetters).',
      ),
    )
    .withPanel(
      timeSeriesPanel(
        'Queue depth by state',
        'short',
        [{ expr: `max by (state) (${queueDepth()})`, legend: '{{state}}' }],
        'Ingestion jobs queued, active and dead (one shared pg-boss queue; max over pods, which ' +
          'all report it). A growing queued line is a backlog (IngestionBacklog).',
      ),
    )
    .withPanel(
      timeSeriesPanel(
        'Accepted-to-searchable lag',
        's',
        [
          {
            expr: `histogram_quantile(0.95, sum by (le) (rate(${lagBuckets}[${ri}])))`,
            legend: 'p95',
          },
          {
            expr: `histogram_quantile(0.5, sum by (le) (rate(${lagBuckets}[${ri}])))`,
            legend: 'p50',
          },
        ],
        'Time from a 202 on ingest to the document being searchable, for documents indexed in ' +
          'the window: the ingestion freshness SLI.',
      ),
    )
    .withPanel(
      statPanel(
        'Dead-lettered jobs waiting',
        'short',
        [{ expr: `max(${queueDepth('dead')})` }],
        'Jobs in the dead state now: their documents never become searchable on their own. ' +
          'Fix the cause, then replay them (runbooks/procedures/replay-dead-letters.md).',
      ),
    )
    .withPanel(
      statPanel(
        'Jobs dead-lettered per second',
        'ops',
        [
          // Absent until the first dead letter: show zero, not "No data".
          {
            expr: `sum(rate(${sel(metrics.ingestJobs, { ...job, outcome: 'dead' })}[${ri}])) or vector(0)`,
          },
        ],
        'Rate at which jobs exhaust their retries now; above 0 while dependencies are up points ' +
          'at bad documents rather than an outage.',
      ),
    );
}
