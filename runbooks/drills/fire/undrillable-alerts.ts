// Alerts no drill can produce on the local stack, each with the reason. A test checks that every
// alerting rule alerts/ ships is either drilled (fire-drills.ts) or listed here.

export interface UndrillableAlert {
  readonly alert: string;
  readonly severity: string;
  readonly reason: string;
}

const k8s =
  'needs kube-state-metrics and cAdvisor series from a Kubernetes cluster (none runs here)';
const ticketOfPage = (alert: string, fault: string) => ({
  alert,
  severity: 'warning',
  reason: `the ticket-level burn (1d/2h and 3d/6h windows, for: 15m): the ${fault} of the ${alert} page drill burns it too, but the page inhibits it (critical mutes warning of the same alert) and its windows need hours of history`,
});

export const undrillableAlerts: readonly UndrillableAlert[] = [
  {
    alert: 'VectorStoreDown',
    severity: 'critical',
    reason:
      'no Qdrant server can run here (no binary in the registries): the local stack uses the in-process index, which cannot be down while the service runs',
  },
  {
    alert: 'VaultSealed',
    severity: 'critical',
    reason:
      'no Vault server binary here; note that its absent(up{job="vault"}) branch fires on any Prometheus without a Vault target, the drill stack included',
  },
  { alert: 'PodCrashLooping', severity: 'warning', reason: k8s },
  { alert: 'PodCpuSaturation', severity: 'warning', reason: k8s },
  { alert: 'PodMemorySaturation', severity: 'warning', reason: k8s },
  { alert: 'HPAMaxedOut', severity: 'warning', reason: k8s },
  {
    alert: 'CertificateExpiringSoon',
    severity: 'warning',
    reason: 'needs the blackbox exporter probing the public HTTPS endpoint and its ACM certificate',
  },
  {
    alert: 'Watchdog',
    severity: 'info',
    reason:
      'always firing, no fault to inject: the drill tests check instead that it reaches the watchdog-heartbeat receiver',
  },
  ticketOfPage('QueryAvailabilityBudgetBurn', 'injected 5xx'),
  ticketOfPage('IngestAvailabilityBudgetBurn', 'injected 5xx'),
  ticketOfPage('QueryLatencyBudgetBurn', 'injected latency'),
  ticketOfPage('IngestionFreshnessBudgetBurn', 'stalled workers'),
];
