import { metrics } from '../../catalog/metrics/metric-catalog';
import { hsel, psel, sel, xsel } from '../../catalog/promql/selector';
import { serviceIdentity } from '../../catalog/service-identity';
import { dashboardUids } from '../../catalog/dashboard-uids';
import { rateInterval as ri, ragDashboard, row, statPanel, timeSeriesPanel } from './panel-kit';

// RED per route (rate, errors, duration), the Node.js process, and the pods that run it.
// Every query on the service's own metrics selects its job: process_* and nodejs_* come from every
// Node.js process the cluster scrapes.
export function serviceOverviewDashboard() {
  const job = { job: serviceIdentity.job };
  const requests = sel(metrics.httpRequests, job);
  const errors = sel(metrics.httpRequests, { ...job, status_code: { re: '5..' } });
  const byRoute = 'sum by (route, method)';
  const buckets = hsel(metrics.httpRequestDuration, '_bucket', job);
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
      timeSeriesPanel(
        'Request rate by route',
        'reqps',
        [{ expr: `${byRoute} (rate(${requests}[${ri}]))`, legend: '{{method}} {{route}}' }],
        'Requests per second the API answers, per route template and method, summed over pods. ' +
          'A sudden drop on one route with no deploy usually means clients fail before reaching it.',
      ),
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
      timeSeriesPanel(
        'Responses by status code',
        'reqps',
        [{ expr: `sum by (status_code) (rate(${requests}[${ri}]))`, legend: '{{status_code}}' }],
        'Responses per second by status code. 503 means a dependency is down (see Datastores); ' +
          '413/400/404 are client input and never count against the availability SLO.',
      ),
    )
    .withPanel(
      timeSeriesPanel(
        'Latency by route',
        's',
        [0.5, 0.95, 0.99].map(quantile),
        'p50, p95 and p99 request duration per route, from the request histogram (first byte in ' +
          'to last byte out). Compare with the latency SLO threshold on the SLO dashboard.',
      ),
    )
    .withRow(row('Process'))
    .withPanel(
      timeSeriesPanel(
        'CPU per instance',
        'percentunit',
        [
          {
            expr: `rate(${psel('process_cpu_seconds_total', job)}[${ri}])`,
            legend: '{{instance}}',
          },
        ],
        'CPU seconds per second each rag-api process uses (1 = one core), from prom-client. Flat ' +
          'at the container limit means throttling: see "CPU of limit" below.',
      ),
    )
    .withPanel(
      timeSeriesPanel(
        'Resident memory per instance',
        'bytes',
        [{ expr: psel('process_resident_memory_bytes', job), legend: '{{instance}}' }],
        'Resident set size of each rag-api process. A steady climb across restarts is a leak; ' +
          'compare with the container limit in "Memory of limit".',
      ),
    )
    .withPanel(
      timeSeriesPanel(
        'Event loop lag p99',
        's',
        [{ expr: psel('nodejs_eventloop_lag_p99_seconds', job), legend: '{{instance}}' }],
        'How late timers fire in each process (p99). Above ~100 ms every request on that pod ' +
          'waits: CPU-bound work (chunking, JSON) is blocking the loop.',
      ),
    )
    .withPanel(
      timeSeriesPanel(
        'Heap used',
        'bytes',
        [{ expr: psel('nodejs_heap_size_used_bytes', job), legend: '{{instance}}' }],
        'V8 heap in use per process. A sawtooth is garbage collection at work; a rising floor is ' +
          'retained memory.',
      ),
    )
    .withRow(row('Pods (kube-state-metrics, cAdvisor)'))
    .withPanel(
      timeSeriesPanel(
        'Container restarts',
        'short',
        [
          {
            expr: `sum by (pod) (increase(${xsel('kube_pod_container_status_restarts_total', { namespace: ns })}[${ri}]))`,
            legend: '{{pod}}',
          },
        ],
        `Container restarts per pod in namespace ${ns} (kube-state-metrics). Repeated restarts ` +
          'of one pod: OOM kills or failing liveness probes (PodCrashLooping runbook).',
      ),
    )
    .withPanel(
      timeSeriesPanel(
        'CPU of limit',
        'percentunit',
        [
          {
            expr:
              `sum by (pod) (rate(${xsel('container_cpu_usage_seconds_total', { namespace: ns, container: { ne: '' } })}[${ri}]))` +
              ` / sum by (pod) (${xsel('kube_pod_container_resource_limits', { namespace: ns, resource: 'cpu' })})`,
            legend: '{{pod}}',
          },
        ],
        'Container CPU use (cAdvisor) as a share of its limit, per pod. Near 100% the kernel ' +
          'throttles the pod and latency rises (PodCpuSaturation).',
      ),
    )
    .withPanel(
      timeSeriesPanel(
        'Memory of limit',
        'percentunit',
        [
          {
            expr:
              `sum by (pod) (${xsel('container_memory_working_set_bytes', { namespace: ns, container: { ne: '' } })})` +
              ` / sum by (pod) (${xsel('kube_pod_container_resource_limits', { namespace: ns, resource: 'memory' })})`,
            legend: '{{pod}}',
          },
        ],
        'Working-set memory (cAdvisor) as a share of the container limit, per pod. At 100% the ' +
          'kernel OOM-kills the container (PodMemorySaturation).',
      ),
    )
    .withPanel(
      timeSeriesPanel(
        'Autoscaler replicas vs maximum',
        'short',
        [
          {
            expr: `max by (horizontalpodautoscaler) (${xsel('kube_horizontalpodautoscaler_status_current_replicas', { namespace: ns })})`,
            legend: 'current {{horizontalpodautoscaler}}',
          },
          {
            expr: `max by (horizontalpodautoscaler) (${xsel('kube_horizontalpodautoscaler_spec_max_replicas', { namespace: ns })})`,
            legend: 'max {{horizontalpodautoscaler}}',
          },
        ],
        'Replicas the HPA runs against its maximum. Current pinned at max means load exceeds ' +
          'what the autoscaler may add (HPAMaxedOut; raise app.maxReplicas in the stack config).',
      ),
    )
    .withPanel(
      statPanel(
        'API replicas available',
        'short',
        [
          {
            // The API runs as an Argo Rollout; its Deployment only holds the pod template (0 replicas).
            expr: `sum(${xsel('rollout_info_replicas_available', { exported_namespace: ns, name: serviceIdentity.deployment })})`,
          },
        ],
        `Available pods of the ${serviceIdentity.deployment} Argo Rollout (from the Argo Rollouts ` +
          'controller): the ones in load-balancer rotation right now, canary and stable together.',
      ),
    );
}
