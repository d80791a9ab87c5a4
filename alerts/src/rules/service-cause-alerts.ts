import { metrics, type Dependency } from '../../../catalog/metrics/metric-catalog';
import { dashboardUids } from '../../../catalog/dashboard-uids';
import { sel, seriesLiteral } from '../../../catalog/promql/selector';
import { serviceIdentity } from '../../../catalog/service-identity';
import { slos } from '../../../catalog/slo/slo-definitions';
import type { Severity } from '../../../catalog/alerting/severity';
import type { AlertDefinition } from './rule-model';
import { counterValues, gauge, stepTestPlan } from './step-scenarios';

// Alerts on the service's own causes: a dependency it needs, or a pipeline of its own, broken now,
// whether or not users notice yet. Thresholds are named constants because the promtool scenarios
// are computed from them.

export const causeAlertGroup = 'rag-cause-alerts';

export const serviceThresholds = {
  replicaLagSeconds: 30,
  cacheHitRatioFloor: 0.1,
  /** Below this many lookups per second the hit ratio is noise, not a collapse. */
  cacheMinLookupsPerSecond: 0.5,
  queuedJobs: 1000,
  deadJobs: 0,
} as const;

const ns = serviceIdentity.namespace;
const app = { namespace: ns, job: serviceIdentity.job };
const burnAlert = (id: string) => {
  const slo = slos.find((s) => s.id === id);
  if (!slo) throw new Error(`unknown SLO ${id}`);
  return slo.alert;
};

interface DependencyAlertSpec {
  readonly alert: string;
  readonly dependency: Dependency;
  readonly what: string;
  readonly consequence: string;
  readonly for: string;
  readonly severity: Severity;
  readonly dashboardUid: string;
  readonly inhibits: readonly string[];
}

// Judged from the service's own health checks (rag_dependency_up) rather than the exporters: it
// is what the API actually experiences, and it exists in every environment, including tests.
function dependencyDown(spec: DependencyAlertSpec): AlertDefinition {
  const selector = sel(metrics.dependencyUp, { dependency: spec.dependency });
  return {
    alert: spec.alert,
    group: causeAlertGroup,
    expr: `max by (namespace) (${selector}) == 0`,
    for: spec.for,
    severity: spec.severity,
    summary: `Every rag-api pod reports ${spec.what} as unreachable.`,
    description:
      `No rag-api pod in namespace {{ $labels.namespace }} has passed a ${spec.what} health ` +
      `check for ${spec.for}. ${spec.consequence}`,
    dashboardUid: spec.dashboardUid,
    inhibits: spec.inhibits,
    tests: stepTestPlan({
      alert: spec.alert,
      for: spec.for,
      memoryMinutes: 0,
      series: gauge(
        seriesLiteral(metrics.dependencyUp.name, { ...app, dependency: spec.dependency }),
      ),
      healthy: 1,
      bad: 0,
      nearThreshold: 1,
      labels: { namespace: ns },
    }),
  };
}

function dependencyAlerts(): AlertDefinition[] {
  return [
    dependencyDown({
      alert: 'PostgresPrimaryDown',
      dependency: 'postgres_primary',
      what: 'Postgres primary',
      consequence: 'Ingestion and every write fail; reads continue from replicas only.',
      for: '1m',
      severity: 'critical',
      dashboardUid: dashboardUids.datastores,
      inhibits: [
        burnAlert('ingest-availability'),
        burnAlert('ingestion-freshness'),
        'IngestionBacklog',
        'PostgresReplicaLagging',
      ],
    }),
    dependencyDown({
      alert: 'PostgresReplicaDown',
      dependency: 'postgres_replica',
      what: 'Postgres read replica',
      // rag_dependency_up is 0 for the replicas as soon as one of them is down or lags beyond the
      // service's bound (DATABASE_REPLICA_MAX_LAG_SECONDS), not only when all are.
      consequence:
        'At least one replica is down or too far behind to serve reads; its reads go to the ' +
        'other replicas or, with none left, to the primary.',
      for: '5m',
      severity: 'warning',
      dashboardUid: dashboardUids.datastores,
      inhibits: ['PostgresReplicaLagging'],
    }),
    dependencyDown({
      alert: 'RedisDown',
      dependency: 'redis',
      what: 'Redis',
      consequence: 'Answer and embedding caches are bypassed: every query embeds and retrieves.',
      for: '2m',
      severity: 'warning',
      dashboardUid: dashboardUids.datastores,
      inhibits: ['CacheHitRatioCollapse'],
    }),
    dependencyDown({
      alert: 'EmbedderDown',
      dependency: 'embedder',
      what: 'text-embedding endpoint',
      // Only a configured endpoint (EMBEDDER_URL) is checked: the local embedder cannot be down.
      consequence:
        'Queries cannot embed the question and answer 503; ingestion jobs retry and may ' +
        'dead-letter.',
      for: '2m',
      severity: 'critical',
      dashboardUid: dashboardUids.ragPipeline,
      inhibits: [
        burnAlert('query-availability'),
        burnAlert('query-latency'),
        burnAlert('ingestion-freshness'),
        'IngestionBacklog',
        'IngestionDeadLetters',
      ],
    }),
    dependencyDown({
      alert: 'ChatEndpointDown',
      dependency: 'chat',
      what: 'chat completion endpoint',
      // Degraded, not failing: answers fall back to extractive ones, so it files a ticket. It
      // inhibits nothing: slow chat calls burn the latency budget, and that page stays visible.
      consequence:
        'Answers fall back to extractive ones (quoted passages, no generated text); queries ' +
        'still succeed.',
      for: '5m',
      severity: 'warning',
      dashboardUid: dashboardUids.ragPipeline,
      inhibits: [],
    }),
    dependencyDown({
      alert: 'VectorStoreDown',
      dependency: 'vector_store',
      what: 'vector store (Qdrant)',
      consequence: 'Queries cannot retrieve context and ingestion cannot upsert vectors.',
      for: '1m',
      severity: 'critical',
      dashboardUid: dashboardUids.datastores,
      inhibits: [
        burnAlert('query-availability'),
        burnAlert('query-latency'),
        burnAlert('ingestion-freshness'),
        'IngestionBacklog',
        'IngestionDeadLetters',
      ],
    }),
  ];
}

function replicaLagging(): AlertDefinition {
  const t = serviceThresholds.replicaLagSeconds;
  return {
    alert: 'PostgresReplicaLagging',
    group: causeAlertGroup,
    expr: `max by (namespace, replica) (${sel(metrics.replicaLag)}) > ${t}`,
    for: '5m',
    severity: 'warning',
    summary: 'A Postgres read replica is lagging behind the primary.',
    description:
      `Replica {{ $labels.replica }} replays {{ $value | humanizeDuration }} behind the primary ` +
      `(threshold ${t}s). The service stops reading from a replica past ` +
      `DATABASE_REPLICA_MAX_LAG_SECONDS, so reads shift to the primary.`,
    dashboardUid: dashboardUids.datastores,
    tests: stepTestPlan({
      alert: 'PostgresReplicaLagging',
      for: '5m',
      memoryMinutes: 0,
      series: gauge(seriesLiteral(metrics.replicaLag.name, { ...app, replica: 'replica-1' })),
      healthy: 0.2,
      bad: t * 1.5,
      nearThreshold: t * 0.8,
      labels: { namespace: ns, replica: 'replica-1' },
    }),
  };
}

function cacheHitRatioCollapse(): AlertDefinition {
  const w = '10m';
  const by = 'sum by (namespace, cache)';
  const hits = `${by} (rate(${sel(metrics.cacheRequests, { result: 'hit' })}[${w}]))`;
  const all = `${by} (rate(${sel(metrics.cacheRequests)}[${w}]))`;
  const floor = serviceThresholds.cacheHitRatioFloor;
  const lookupsPerMinute = 600;
  const hitSeries = (cache: string) =>
    seriesLiteral(metrics.cacheRequests.name, { ...app, cache, result: 'hit' });
  const missSeries = (cache: string) =>
    seriesLiteral(metrics.cacheRequests.name, { ...app, cache, result: 'miss' });
  return {
    alert: 'CacheHitRatioCollapse',
    group: causeAlertGroup,
    // A cache with no hits at all has no hit series: count it as a zero ratio.
    expr:
      `((${hits} or ${all} * 0) / ${all}) < ${floor}` +
      ` and ${all} > ${serviceThresholds.cacheMinLookupsPerSecond}`,
    for: '15m',
    severity: 'warning',
    summary: 'A rag-api cache almost stopped producing hits.',
    description:
      `The {{ $labels.cache }} cache hit ratio is {{ $value | humanizePercentage }} (floor ` +
      `${floor * 100}%) under real traffic: more embedding calls and slower queries follow.`,
    dashboardUid: dashboardUids.ragPipeline,
    tests: stepTestPlan({
      alert: 'CacheHitRatioCollapse',
      for: '15m',
      memoryMinutes: 10,
      // The signal is the hit ratio; lookups stay at a constant rate.
      series: (ratio) => [
        {
          series: hitSeries('embedding'),
          values: counterValues(ratio.map((r) => Math.round(r * lookupsPerMinute))),
        },
        {
          series: missSeries('embedding'),
          values: counterValues(
            ratio.map((r) => lookupsPerMinute - Math.round(r * lookupsPerMinute)),
          ),
        },
      ],
      healthy: 0.8,
      bad: floor / 2,
      nearThreshold: floor * 1.5,
      labels: { namespace: ns, cache: 'embedding' },
    }),
  };
}

function ingestionBacklog(): AlertDefinition {
  const t = serviceThresholds.queuedJobs;
  return {
    alert: 'IngestionBacklog',
    group: causeAlertGroup,
    expr: `max by (namespace) (${sel(metrics.queueDepth, { state: 'queued' })}) > ${t}`,
    for: '15m',
    severity: 'warning',
    summary: 'Ingestion jobs are piling up in the queue.',
    description:
      `{{ $value | humanize }} ingestion jobs are queued in {{ $labels.namespace }} (threshold ` +
      `${t}) for 15m: workers are not keeping up and new documents are not searchable yet.`,
    dashboardUid: dashboardUids.ragPipeline,
    tests: stepTestPlan({
      alert: 'IngestionBacklog',
      for: '15m',
      memoryMinutes: 0,
      series: gauge(seriesLiteral(metrics.queueDepth.name, { ...app, state: 'queued' })),
      healthy: 3,
      bad: t * 1.5,
      nearThreshold: t * 0.9,
      labels: { namespace: ns },
    }),
  };
}

function ingestionDeadLetters(): AlertDefinition {
  const t = serviceThresholds.deadJobs;
  return {
    alert: 'IngestionDeadLetters',
    group: causeAlertGroup,
    expr: `max by (namespace) (${sel(metrics.queueDepth, { state: 'dead' })}) > ${t}`,
    for: '5m',
    severity: 'warning',
    summary: 'Ingestion jobs exhausted their retries and were dead-lettered.',
    description:
      `{{ $value | humanize }} ingestion jobs in {{ $labels.namespace }} are dead after ` +
      `QUEUE_RETRY_LIMIT attempts: their documents will never become searchable on their own.`,
    dashboardUid: dashboardUids.ragPipeline,
    tests: stepTestPlan({
      alert: 'IngestionDeadLetters',
      for: '5m',
      memoryMinutes: 0,
      series: gauge(seriesLiteral(metrics.queueDepth.name, { ...app, state: 'dead' })),
      healthy: 0,
      bad: 3,
      nearThreshold: 0,
      labels: { namespace: ns },
    }),
  };
}
export function serviceCauseAlerts(): AlertDefinition[] {
  return [
    ...dependencyAlerts(),
    replicaLagging(),
    cacheHitRatioCollapse(),
    ingestionBacklog(),
    ingestionDeadLetters(),
  ];
}
