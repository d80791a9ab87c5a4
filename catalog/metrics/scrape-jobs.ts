// Prometheus `job` labels of the scrape targets infra declares for the platform's exporters. The
// alerts select on them and infra's ServiceMonitors/Probes set them (relabelings), so both sides
// import these names and a rename cannot leave an alert matching nothing.

export const scrapeJobs = {
  /** Every Vault server pod, through the headless `vault-internal` Service. */
  vault: 'vault',
  /** prometheus-postgres-exporter: one target per Postgres endpoint (primary and each replica). */
  postgres: 'postgres-exporter',
  /** prometheus-redis-exporter: the Redis primary endpoint. */
  redis: 'redis-exporter',
  /** prometheus-blackbox-exporter probing the service's public HTTPS URL. */
  blackbox: 'blackbox-https',
} as const;

export type ScrapeJob = (typeof scrapeJobs)[keyof typeof scrapeJobs];
