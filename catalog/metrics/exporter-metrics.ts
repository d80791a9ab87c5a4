// Metrics that alerts and dashboards read from exporters the platform deploys next to the service
// (kube-prometheus-stack, postgres_exporter, redis_exporter, blackbox_exporter, Qdrant, Vault;
// infra's tests check that every source here has a producer in every stack). Only names the
// exporters emit by default in the versions deployed and in Debian's (postgres_exporter 0.11,
// redis_exporter 1.45) are listed, so the same panels work everywhere. The
// consistency tests accept a metric name in a query only if it is in the app's metric catalog or
// here, so a typo or a metric an exporter dropped fails CI instead of leaving a silent alert.

export type ExporterSource =
  | 'prometheus'
  | 'kube-state-metrics'
  | 'cadvisor'
  | 'postgres_exporter'
  | 'redis_exporter'
  | 'qdrant'
  | 'vault'
  | 'blackbox_exporter'
  | 'argo-rollouts';

export interface ExporterMetric {
  readonly source: ExporterSource;
  readonly labels: readonly string[];
  /** Set for gauges whose name ends in _total anyway (Qdrant), so lint does not treat them as counters. */
  readonly gauge?: true;
}

export const exporterMetrics = {
  up: { source: 'prometheus', labels: ['job', 'instance', 'namespace', 'pod'] },
  ALERTS: {
    source: 'prometheus',
    labels: ['alertname', 'alertstate', 'severity', 'service', 'team', 'slo', 'namespace'],
  },
  kube_pod_container_status_waiting_reason: {
    source: 'kube-state-metrics',
    labels: ['namespace', 'pod', 'container', 'reason'],
  },
  kube_pod_container_status_restarts_total: {
    source: 'kube-state-metrics',
    labels: ['namespace', 'pod', 'container'],
  },
  kube_pod_container_resource_limits: {
    source: 'kube-state-metrics',
    labels: ['namespace', 'pod', 'container', 'resource', 'unit'],
  },
  kube_horizontalpodautoscaler_status_current_replicas: {
    source: 'kube-state-metrics',
    labels: ['namespace', 'horizontalpodautoscaler'],
  },
  kube_horizontalpodautoscaler_spec_max_replicas: {
    source: 'kube-state-metrics',
    labels: ['namespace', 'horizontalpodautoscaler'],
  },
  kube_deployment_status_replicas_available: {
    source: 'kube-state-metrics',
    labels: ['namespace', 'deployment'],
  },
  // The Argo Rollouts controller's own gauge (kube-state-metrics knows no Rollouts). Its
  // `namespace` label names the Rollout's namespace and collides with the scrape target's, so
  // Prometheus keeps it as `exported_namespace` (the chart's ServiceMonitor does not honor labels).
  rollout_info_replicas_available: {
    source: 'argo-rollouts',
    labels: ['exported_namespace', 'name', 'namespace', 'job'],
  },
  container_cpu_usage_seconds_total: {
    source: 'cadvisor',
    labels: ['namespace', 'pod', 'container'],
  },
  container_memory_working_set_bytes: {
    source: 'cadvisor',
    labels: ['namespace', 'pod', 'container'],
  },
  pg_up: { source: 'postgres_exporter', labels: ['instance', 'namespace'] },
  pg_stat_database_numbackends: {
    source: 'postgres_exporter',
    labels: ['instance', 'namespace', 'datname'],
  },
  redis_up: { source: 'redis_exporter', labels: ['instance', 'namespace'] },
  redis_connected_clients: { source: 'redis_exporter', labels: ['instance', 'namespace'] },
  redis_memory_used_bytes: { source: 'redis_exporter', labels: ['instance', 'namespace'] },
  redis_keyspace_hits_total: { source: 'redis_exporter', labels: ['instance', 'namespace'] },
  redis_keyspace_misses_total: { source: 'redis_exporter', labels: ['instance', 'namespace'] },
  collections_total: { source: 'qdrant', labels: ['instance', 'namespace'], gauge: true },
  collections_vector_total: { source: 'qdrant', labels: ['instance', 'namespace'], gauge: true },
  rest_responses_total: {
    source: 'qdrant',
    labels: ['instance', 'namespace', 'method', 'endpoint', 'status'],
  },
  vault_core_unsealed: { source: 'vault', labels: ['job', 'instance', 'namespace'] },
  /** Unix time the earliest certificate in the probed chain expires. */
  probe_ssl_earliest_cert_expiry: { source: 'blackbox_exporter', labels: ['job', 'instance'] },
  /** 1 when the last probe succeeded (TLS verified, 2xx): the runbook's first check. */
  probe_success: { source: 'blackbox_exporter', labels: ['job', 'instance'] },
} as const satisfies Record<string, ExporterMetric>;

export type ExporterMetricName = keyof typeof exporterMetrics;

/**
 * Labels Prometheus itself attaches to every scraped series (target labels from the
 * ServiceMonitor) and labels the recording rules add. Queries may group or match on these even
 * though no exporter declares them.
 */
export const targetLabels = [
  'job',
  'instance',
  'namespace',
  'pod',
  'service',
  'container',
] as const;
