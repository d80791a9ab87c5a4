import { errorBudget, slos, type SloDefinition } from '../../catalog/slo/slo-definitions';

// k6 thresholds carrying the SLO objectives into load tests: a load test that would burn the
// error budget, or break the latency objective, fails. Requests are selected like the SLI selects
// them in Prometheus, by method and route template: k6 sets `method` itself and the scripts tag
// each request with its route (`tags: { route: '/v1/query' }`). One request usually feeds several
// SLOs (availability and latency of the same route) and a k6 tag holds one value, so a tag naming
// the SLO could not select it for both.

function requestSelector(slo: SloDefinition): { method: string; route: string } {
  if (slo.sli.kind === 'request-availability') return slo.sli;
  const { method, route } = slo.sli.matchers;
  if (!method || !route) throw new Error(`${slo.id}: an HTTP latency SLI needs method and route`);
  return { method, route };
}

function thresholdFor(slo: SloDefinition): [string, string[]] {
  const { method, route } = requestSelector(slo);
  const tag = `{method:${method},route:${route}}`;
  if (slo.sli.kind === 'request-availability') {
    // k6 counts 4xx as failed too unless the script sets responseCallback; budget applies as is.
    return [`http_req_failed${tag}`, [`rate<=${errorBudget(slo)}`]];
  }
  const pct = Number((slo.objective * 100).toPrecision(6));
  return [`http_req_duration${tag}`, [`p(${pct})<${slo.sli.thresholdSeconds * 1000}`]];
}

/** Thresholds for the HTTP SLOs (ingestion freshness is asynchronous: no k6 request measures it). */
export function k6Thresholds(): { thresholds: Record<string, string[]> } {
  const http = slos.filter(
    (s) => s.sli.kind === 'request-availability' || s.sli.metric.name.startsWith('rag_http_'),
  );
  // Two SLOs on the same route and metric (say p90 and p99 latency) share one threshold key.
  const thresholds: Record<string, string[]> = {};
  for (const [key, expressions] of http.map(thresholdFor)) {
    thresholds[key] = [...(thresholds[key] ?? []), ...expressions];
  }
  return { thresholds };
}
