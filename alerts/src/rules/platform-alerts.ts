import { dashboardUids } from '../../../catalog/dashboard-uids';
import { seriesLiteral, xsel } from '../../../catalog/promql/selector';
import { serviceIdentity } from '../../../catalog/service-identity';
import { scrapeJobs } from '../../../catalog/metrics/scrape-jobs';
import { minutes } from '../../../catalog/promql/duration';
import type { AlertDefinition } from './rule-model';
import { expandingNotation, phases } from '../promtool/series-notation';
import { counterValues, gauge, stepTestPlan } from './step-scenarios';

// Alerts on the platform the service runs on (pods, autoscaling, certificates, Vault): causes in
// Kubernetes and its add-ons, read from the exporters infra deploys. Thresholds are named
// constants because the promtool scenarios are computed from them.

export const platformAlertGroup = 'rag-platform-alerts';

export const platformThresholds = {
  cpuOfLimit: 0.9,
  memoryOfLimit: 0.9,
  certificateDays: 14,
} as const;

const ns = serviceIdentity.namespace;
const pod = 'rag-api-5d8f7c9b4-x2x7q';

function podCrashLooping(): AlertDefinition {
  const reason = 'CrashLoopBackOff';
  const selector = xsel('kube_pod_container_status_waiting_reason', { namespace: ns, reason });
  return {
    alert: 'PodCrashLooping',
    group: platformAlertGroup,
    expr: `max by (namespace, pod, container) (max_over_time(${selector}[5m])) >= 1`,
    for: '15m',
    severity: 'warning',
    summary: 'A pod of the RAG platform is crash-looping.',
    description:
      `Container {{ $labels.container }} of pod {{ $labels.pod }} in {{ $labels.namespace }} ` +
      `has been in CrashLoopBackOff within every 5m window for 15m.`,
    dashboardUid: dashboardUids.serviceOverview,
    tests: stepTestPlan({
      alert: 'PodCrashLooping',
      for: '15m',
      memoryMinutes: 5,
      series: gauge(
        seriesLiteral('kube_pod_container_status_waiting_reason', {
          namespace: ns,
          pod,
          container: 'api',
          reason,
        }),
      ),
      healthy: 0,
      bad: 1,
      nearThreshold: 0,
      labels: { namespace: ns, pod, container: 'api' },
    }),
  };
}

function podCpuSaturation(): AlertDefinition {
  const t = platformThresholds.cpuOfLimit;
  const usage = xsel('container_cpu_usage_seconds_total', { namespace: ns, container: { ne: '' } });
  const limits = xsel('kube_pod_container_resource_limits', { namespace: ns, resource: 'cpu' });
  return {
    alert: 'PodCpuSaturation',
    group: platformAlertGroup,
    expr:
      `sum by (namespace, pod) (rate(${usage}[5m]))` +
      ` / sum by (namespace, pod) (${limits}) > ${t}`,
    for: '15m',
    severity: 'warning',
    summary: 'A pod is using nearly all of its CPU limit.',
    description:
      `Pod {{ $labels.pod }} uses {{ $value | humanizePercentage }} of its CPU limit ` +
      `(threshold ${t * 100}%): it is being throttled and latency rises.`,
    dashboardUid: dashboardUids.serviceOverview,
    tests: stepTestPlan({
      alert: 'PodCpuSaturation',
      for: '15m',
      memoryMinutes: 5,
      // Limit of one core: CPU-seconds used per minute = share of the limit x 60.
      series: (share) => [
        {
          series: seriesLiteral('container_cpu_usage_seconds_total', {
            namespace: ns,
            pod,
            container: 'api',
          }),
          values: counterValues(share.map((s) => Math.round(s * 60))),
        },
        {
          series: seriesLiteral('kube_pod_container_resource_limits', {
            namespace: ns,
            pod,
            container: 'api',
            resource: 'cpu',
            unit: 'core',
          }),
          values: `1x${share.length - 1}`,
        },
      ],
      healthy: 0.3,
      bad: 0.95,
      nearThreshold: 0.8,
      labels: { namespace: ns, pod },
    }),
  };
}

function podMemorySaturation(): AlertDefinition {
  const t = platformThresholds.memoryOfLimit;
  const used = xsel('container_memory_working_set_bytes', { namespace: ns, container: { ne: '' } });
  const limits = xsel('kube_pod_container_resource_limits', { namespace: ns, resource: 'memory' });
  const limitBytes = 1e9;
  return {
    alert: 'PodMemorySaturation',
    group: platformAlertGroup,
    expr: `sum by (namespace, pod) (${used}) / sum by (namespace, pod) (${limits}) > ${t}`,
    for: '15m',
    severity: 'warning',
    summary: 'A pod is close to its memory limit and will be OOM-killed.',
    description:
      `Pod {{ $labels.pod }} uses {{ $value | humanizePercentage }} of its memory limit ` +
      `(threshold ${t * 100}%).`,
    dashboardUid: dashboardUids.serviceOverview,
    tests: stepTestPlan({
      alert: 'PodMemorySaturation',
      for: '15m',
      memoryMinutes: 0,
      series: (share) => [
        {
          series: seriesLiteral('container_memory_working_set_bytes', {
            namespace: ns,
            pod,
            container: 'api',
          }),
          values: expandingNotation(share.map((s) => Math.round(s * limitBytes))),
        },
        {
          series: seriesLiteral('kube_pod_container_resource_limits', {
            namespace: ns,
            pod,
            container: 'api',
            resource: 'memory',
            unit: 'byte',
          }),
          values: `${limitBytes}x${share.length - 1}`,
        },
      ],
      healthy: 0.4,
      bad: 0.95,
      nearThreshold: 0.85,
      labels: { namespace: ns, pod },
    }),
  };
}

function hpaMaxedOut(): AlertDefinition {
  const by = 'max by (namespace, horizontalpodautoscaler)';
  const current = xsel('kube_horizontalpodautoscaler_status_current_replicas', { namespace: ns });
  const max = xsel('kube_horizontalpodautoscaler_spec_max_replicas', { namespace: ns });
  const maxReplicas = 10;
  const hpa = serviceIdentity.deployment;
  return {
    alert: 'HPAMaxedOut',
    group: platformAlertGroup,
    expr: `${by} (${current}) >= ${by} (${max})`,
    for: '15m',
    severity: 'warning',
    summary: 'An autoscaler has been at its maximum replica count for 15 minutes.',
    description:
      `HPA {{ $labels.horizontalpodautoscaler }} in {{ $labels.namespace }} runs ` +
      `{{ $value | humanize }} replicas, its maximum: it cannot absorb more load.`,
    dashboardUid: dashboardUids.serviceOverview,
    tests: stepTestPlan({
      alert: 'HPAMaxedOut',
      for: '15m',
      memoryMinutes: 0,
      series: (replicas) => [
        {
          series: seriesLiteral('kube_horizontalpodautoscaler_status_current_replicas', {
            namespace: ns,
            horizontalpodautoscaler: hpa,
          }),
          values: expandingNotation(replicas),
        },
        {
          series: seriesLiteral('kube_horizontalpodautoscaler_spec_max_replicas', {
            namespace: ns,
            horizontalpodautoscaler: hpa,
          }),
          values: `${maxReplicas}x${replicas.length - 1}`,
        },
      ],
      healthy: 3,
      bad: maxReplicas,
      nearThreshold: maxReplicas - 1,
      labels: { namespace: ns, horizontalpodautoscaler: hpa },
    }),
  };
}

function certificateExpiring(): AlertDefinition {
  const days = platformThresholds.certificateDays;
  const metric = 'probe_ssl_earliest_cert_expiry';
  const job = scrapeJobs.blackbox;
  // The blackbox exporter probes the service's public URL: the certificate clients actually get
  // (ACM on AWS, the TLS secret on dev), whoever issued it.
  const target = { instance: 'https://rag.example.com/healthz' };
  const spec = stepTestPlan({
    alert: 'CertificateExpiringSoon',
    for: '1h',
    memoryMinutes: 0,
    // The signal is "days left"; the series holds the absolute expiry timestamp, so convert
    // at each sample minute (time() advances with the evaluation).
    series: (daysLeft) => [
      {
        series: seriesLiteral(metric, { job, ...target }),
        values: expandingNotation(daysLeft.map((d, minute) => minute * 60 + d * 86400)),
      },
    ],
    healthy: 60,
    bad: days / 2,
    nearThreshold: days + 1,
    labels: target,
    value: (days / 2) * 86400,
  });
  return {
    alert: 'CertificateExpiringSoon',
    group: platformAlertGroup,
    expr: `min by (instance) (${xsel(metric, { job })}) - time() < ${days} * 86400`,
    for: '1h',
    severity: 'warning',
    summary: 'The TLS certificate served at the public URL expires soon and has not been renewed.',
    description:
      `The certificate served at {{ $labels.instance }} expires in ` +
      `{{ $value | humanizeDuration }} (threshold ${days}d); ACM renews at 60 days left.`,
    dashboardUid: dashboardUids.onCallHome,
    tests: spec,
  };
}

function vaultSealed(): AlertDefinition {
  const job = scrapeJobs.vault;
  const server = { namespace: 'vault', instance: 'vault-0' };
  const target = { job, ...server };
  const forDuration = '5m';
  const unsealed = seriesLiteral('vault_core_unsealed', target);
  const up = seriesLiteral('up', target);
  // A sealed Vault refuses /v1/sys/metrics (503), so `vault_core_unsealed == 0` is only seen while
  // it seals; afterwards its target is down. A server that is down, or no server scraped at all,
  // must page too: silence is never "unsealed".
  const noTarget = '(no Vault scrape target)';
  const expr = [
    `min by (namespace, instance) (${xsel('vault_core_unsealed', { job })}) == 0`,
    `max by (namespace, instance) (${xsel('up', { job })}) == 0`,
    `label_replace(absent(${xsel('up', { job })}), "instance", ${JSON.stringify(noTarget)}, "", "")`,
  ]
    .map((branch) => `(${branch})`)
    .join('\nor\n');
  const lead = 10;
  const down = 20;
  const fireAt = lead + minutes(forDuration) + 5;
  return {
    alert: 'VaultSealed',
    group: platformAlertGroup,
    expr,
    for: forDuration,
    severity: 'critical',
    summary: 'A Vault server is sealed or not answering: secrets cannot be read or renewed.',
    description:
      `Vault {{ $labels.instance }} has been sealed, down or unscraped for ${forDuration} ` +
      `(a sealed server refuses its metrics endpoint). New rag-api pods cannot get database ` +
      `and API credentials from Vault Agent.`,
    dashboardUid: dashboardUids.onCallHome,
    inhibits: ['PodCrashLooping'],
    tests: {
      ...stepTestPlan({
        alert: 'VaultSealed',
        for: forDuration,
        memoryMinutes: 0,
        series: (perMinute) => [
          { series: unsealed, values: expandingNotation(perMinute) },
          { series: up, values: `1x${perMinute.length - 1}` },
        ],
        healthy: 1,
        bad: 0,
        nearThreshold: 1,
        labels: server,
      }),
      more: [
        {
          name: 'VaultSealed: a server stops answering its metrics endpoint, fires, resolves',
          inputSeries: [
            { series: unsealed, values: `1x${lead - 1} _x${down} 1x20` },
            { series: up, values: expandingNotation(phases([1, lead], [0, down], [1, 21])) },
          ],
          checks: [
            { atMinute: lead - 1, firing: [] },
            { atMinute: fireAt, firing: [{ labels: server, value: 0 }] },
            { atMinute: lead + down + 5, firing: [] },
          ],
        },
        {
          name: 'VaultSealed: no Vault target is scraped at all, fires',
          // The last sample at minute 9 stays visible for the 5m lookback, then `up` is absent.
          inputSeries: [{ series: up, values: `1x${lead - 1}` }],
          checks: [
            { atMinute: lead - 1, firing: [] },
            {
              atMinute: lead + 5 + minutes(forDuration) + 5,
              firing: [{ labels: { job, instance: noTarget }, value: 1 }],
            },
          ],
        },
      ],
    },
  };
}
export function platformAlerts(): AlertDefinition[] {
  return [
    podCrashLooping(),
    podCpuSaturation(),
    podMemorySaturation(),
    hpaMaxedOut(),
    certificateExpiring(),
    vaultSealed(),
  ];
}
