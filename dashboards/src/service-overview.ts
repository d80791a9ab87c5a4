import { metrics } from '../../catalog/metrics/metric-catalog';
import { hsel, sel, xsel } from '../../catalog/promql/selector';
import { serviceIdentity } from '../../catalog/service-identity';
import { dashboardUids } from '../../catalog/dashboard-uids';
import { rateInterval as ri, ragDashboard, row, statPanel, timeSeriesPanel } from './panel-kit';

// RED per route (rate, errors, duration), the Node.js process, and the pods that run it.
export function serviceOverviewDashboard() {
  const requests = sel(metrics.httpRequests);
  const errors = sel(metrics.httpRequests, { status_code: { re: '5..' } });
  const byRoute = 'sum by (route, method)';
  const buckets = hsel(metrics.httpRequestDuration, '_bucket');
  const ns = serviceIdentity.namespace;
  const quantile = (q: number) => ({
    expr: `histogram_quantile(${q}, sum by (route, le) (rate(${buckets}[${ri}])))`,
    legend: `p${q * 100} {{route}}`,
  });
  return ragDashboard(
    dashboardUids.serviceOverview,
    'RAG / Service overview',
    'Rate, errors and duration of every rag-api route, the Node.js process and its pods.',
  )
    .withRow(row('Requests (RED per route)'))
    .withPanel(
      timeSeriesPanel('Request rate by route', 'reqps', [
        { expr: `${byRoute} (rate(${requests}[${ri}]))`, legend: '{{method}} {{route}}' },
      ]),
    )
    .withPanel(
      timeSeriesPanel(
        'Server error ratio by route (5xx)',
        'percentunit',
        [
          {
            expr:
              `(${byRoute} (rate(${errors}[${ri}])) or ${byRoute} (rate(${requests}[${ri}])) * 0)` +
              ` / ${byRoute} (rate(${requests}[${ri}]))`,
            legend: '{{method}} {{route}}',
          },
        ],
        '5xx only: 4xx are client mistakes and do not count against availability.',
      ),
    )
    .withPanel(
      timeSeriesPanel('Responses by status code', 'reqps', [
        { expr: `sum by (status_code) (rate(${requests}[${ri}]))`, legend: '{{status_code}}' },
      ]),
    )
    .withPanel(timeSeriesPanel('Latency by route', 's', [0.5, 0.95, 0.99].map(quantile)))
    .withRow(row('Process'))
    .withPanel(
      timeSeriesPanel('CPU per instance', 'percentunit', [
        { expr: `rate(process_cpu_seconds_total[${ri}])`, legend: '{{instance}}' },
      ]),
    )
    .withPanel(
      timeSeriesPanel('Resident memory per instance', 'bytes', [
        { expr: 'process_resident_memory_bytes', legend: '{{instance}}' },
      ]),
    )
    .withPanel(
      timeSeriesPanel('Event loop lag p99', 's', [
        { expr: 'nodejs_eventloop_lag_p99_seconds', legend: '{{instance}}' },
      ]),
    )
    .withPanel(
      timeSeriesPanel('Heap used', 'bytes', [
        { expr: 'nodejs_heap_size_used_bytes', legend: '{{instance}}' },
      ]),
    )
    .withRow(row('Pods (kube-state-metrics, cAdvisor)'))
    .withPanel(
      timeSeriesPanel('Container restarts', 'short', [
        {
          expr: `sum by (pod) (increase(${xsel('kube_pod_container_status_restarts_total', { namespace: ns })}[${ri}]))`,
          legend: '{{pod}}',
        },
      ]),
    )
    .withPanel(
      timeSeriesPanel('CPU of limit', 'percentunit', [
        {
          expr:
            `sum by (pod) (rate(${xsel('container_cpu_usage_seconds_total', { namespace: ns, container: { ne: '' } })}[${ri}]))` +
            ` / sum by (pod) (${xsel('kube_pod_container_resource_limits', { namespace: ns, resource: 'cpu' })})`,
          legend: '{{pod}}',
        },
      ]),
    )
    .withPanel(
      timeSeriesPanel('Memory of limit', 'percentunit', [
        {
          expr:
            `sum by (pod) (${xsel('container_memory_working_set_bytes', { namespace: ns, container: { ne: '' } })})` +
            ` / sum by (pod) (${xsel('kube_pod_container_resource_limits', { namespace: ns, resource: 'memory' })})`,
          legend: '{{pod}}',
        },
      ]),
    )
    .withPanel(
      timeSeriesPanel('Autoscaler replicas vs maximum', 'short', [
        {
          expr: `max by (horizontalpodautoscaler) (${xsel('kube_horizontalpodautoscaler_status_current_replicas', { namespace: ns })})`,
          legend: 'current {{horizontalpodautoscaler}}',
        },
        {
          expr: `max by (horizontalpodautoscaler) (${xsel('kube_horizontalpodautoscaler_spec_max_replicas', { namespace: ns })})`,
          legend: 'max {{horizontalpodautoscaler}}',
        },
      ]),
    )
    .withPanel(
      statPanel('API replicas available', 'short', [
        {
          // The API runs as an Argo Rollout; its Deployment only holds the pod template (0 replicas).
          expr: `sum(${xsel('rollout_info_replicas_available', { exported_namespace: ns, name: serviceIdentity.deployment })})`,
        },
      ]),
    );
}
