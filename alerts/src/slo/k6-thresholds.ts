import { errorBudget, slos, type SloDefinition } from './slo-definitions';

// k6 thresholds carrying the SLO objectives into load tests: a load test that would burn the
// error budget, or break the latency objective, fails. Requests are matched by the `slo` tag the
// k6 scripts set on each request (`tags: { slo: 'query-availability' }`).

function thresholdFor(slo: SloDefinition): [string, string[]] {
  const tag = `{slo:${slo.id}}`;
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
  return { thresholds: Object.fromEntries(http.map(thresholdFor)) };
}
