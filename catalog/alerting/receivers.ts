// Alertmanager receivers by role: routing sends each severity to one, and tests and runbooks name
// them. The generated Alertmanager config defines them (alerts/src/alertmanager).

export const receivers = {
  page: 'critical-page',
  ticket: 'warning-ticket',
  none: 'null',
  heartbeat: 'watchdog-heartbeat',
  /**
   * Alerts this team does not own: kube-prometheus-stack's default rules and any other team's
   * PrometheusRule (Prometheus evaluates every rule in the cluster). They go to the cluster's
   * channel, never to this team's pager.
   */
  foreign: 'cluster-default',
} as const;
