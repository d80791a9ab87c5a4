import { metrics } from '../../catalog/metrics/metric-catalog';
import { hsel, sel, xsel } from '../../catalog/promql/selector';
import { dashboardUids } from '../../catalog/dashboard-uids';
import { serviceIdentity } from '../../catalog/service-identity';
import { rateInterval as ri, ragDashboard, row, statPanel, timeSeriesPanel } from './panel-kit';

// Postgres (primary, replicas, lag), Redis and Qdrant: first as rag-api sees them (health checks,
// read routing, stage latency), then from their own exporters.
export function datastoresDashboard() {
  const job = { job: serviceIdentity.job };
  return ragDashboard(
    dashboardUids.datastores,
    'RAG / Datastores',
    'Postgres primary and replicas, Redis and Qdrant, from the service and from their exporters.',
  )
    .withRow(row('As rag-api sees them'))
    .withPanel(
      timeSeriesPanel(
        'Dependency health (1 = up)',
        'bool',
        [
          {
            expr: `min by (dependency) (${sel(metrics.dependencyUp, job)})`,
            legend: '{{dependency}}',
          },
        ],
        "Each dependency as the API's own health checks see it, worst pod (1 up, 0 degraded or " +
          'down). The dependency-down alerts fire when every pod reports 0.',
      ),
    )
    .withPanel(
      timeSeriesPanel(
        'Replica replay lag',
        's',
        [{ expr: `max by (replica) (${sel(metrics.replicaLag, job)})`, legend: '{{replica}}' }],
        'How far each Postgres read replica replays behind the primary, as the service measures ' +
          'it. Past DATABASE_REPLICA_MAX_LAG_SECONDS its reads move to the primary.',
      ),
    )
    .withPanel(
      timeSeriesPanel(
        'Metadata reads by pool',
        'ops',
        [
          {
            expr: `sum by (target) (rate(${sel(metrics.dbReads, job)}[${ri}]))`,
            legend: '{{target}}',
          },
        ],
        'Reads served by the primary mean replicas are down or lagging.',
      ),
    )
    .withPanel(
      timeSeriesPanel(
        'Datastore stage latency p95',
        's',
        [
          {
            expr: `histogram_quantile(0.95, sum by (stage, le) (rate(${hsel(metrics.stageDuration, '_bucket', { ...job, stage: { re: 'db|cache|retrieve' } })}[${ri}])))`,
            legend: '{{stage}}',
          },
        ],
        'p95 of the query stages spent in a datastore: db (Postgres), cache (Redis) and ' +
          'retrieve (vector search).',
      ),
    )
    .withRow(row('Postgres (postgres_exporter)'))
    .withPanel(
      statPanel(
        'Postgres instances up',
        'short',
        [{ expr: `sum(${xsel('pg_up')})` }],
        'Postgres servers (primary and replicas) postgres_exporter can connect to. Fewer than ' +
          'the stack runs: a server or its exporter is down.',
      ),
    )
    .withPanel(
      timeSeriesPanel(
        'Connections by database',
        'short',
        [
          {
            expr: `sum by (instance, datname) (${xsel('pg_stat_database_numbackends')})`,
            legend: '{{instance}} {{datname}}',
          },
        ],
        'Open backends per server and database. Near max_connections new pools fail to connect; ' +
          'each API pod holds up to DATABASE_POOL_MAX per pool.',
      ),
    )
    .withRow(row('Redis (redis_exporter)'))
    .withPanel(
      statPanel(
        'Redis instances up',
        'short',
        [{ expr: `sum(${xsel('redis_up')})` }],
        'Redis servers redis_exporter reaches. 0: the service runs uncached (RedisDown).',
      ),
    )
    .withPanel(
      timeSeriesPanel(
        'Redis memory used',
        'bytes',
        [
          {
            expr: `sum by (instance) (${xsel('redis_memory_used_bytes')})`,
            legend: '{{instance}}',
          },
        ],
        'Memory Redis uses per server. At maxmemory it evicts cache entries and the hit ratio ' +
          'drops.',
      ),
    )
    .withPanel(
      timeSeriesPanel(
        'Redis clients',
        'short',
        [
          {
            expr: `sum by (instance) (${xsel('redis_connected_clients')})`,
            legend: '{{instance}}',
          },
        ],
        'Client connections per Redis server: about one per API pod plus the exporter.',
      ),
    )
    .withPanel(
      timeSeriesPanel(
        'Redis keyspace hit ratio',
        'percentunit',
        [
          {
            expr:
              `sum(rate(${xsel('redis_keyspace_hits_total')}[${ri}])) / (sum(rate(${xsel('redis_keyspace_hits_total')}[${ri}]))` +
              ` + sum(rate(${xsel('redis_keyspace_misses_total')}[${ri}])))`,
            legend: 'hit ratio',
          },
        ],
        "Redis's own GET hit ratio over all keys; the per-cache view is the Pipeline " +
          "dashboard's cache hit ratio.",
      ),
    )
    .withRow(row('Qdrant'))
    .withPanel(
      timeSeriesPanel(
        'Vectors stored',
        'short',
        [{ expr: `sum(${xsel('collections_vector_total')})`, legend: 'vectors' }],
        'Vectors in Qdrant over all collections (summed over nodes, so replicas count once ' +
          'each). A sudden drop without deletes means lost shards.',
      ),
    )
    .withPanel(
      timeSeriesPanel(
        'Qdrant REST responses by status',
        'reqps',
        [
          {
            expr: `sum by (status) (rate(${xsel('rest_responses_total')}[${ri}]))`,
            legend: '{{status}}',
          },
        ],
        "Qdrant's REST responses per second by HTTP status, from its own metrics. 5xx here with " +
          'VectorStoreDown: Qdrant is up but failing.',
      ),
    )
    .withPanel(
      statPanel(
        'Collections',
        'short',
        [{ expr: `sum(${xsel('collections_total')})` }],
        'Qdrant collections, summed over nodes (each rag-api collection incarnation has one).',
      ),
    );
}
