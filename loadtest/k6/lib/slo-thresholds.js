// The load tests' pass/fail criteria. The SLO objectives are not written here: they are generated
// from the catalog's SLOs (catalog/slo, `npm run gen`) into loadtest/generated/thresholds.json, the same source as
// the burn-rate alerts, so a load test fails exactly when it would burn the error budget.
/* global open */

const generated = JSON.parse(open('../../generated/thresholds.json'));

/** Threshold expressions keyed by `metric{method:…,route:…}`, as generated. */
export const sloThresholds = generated.thresholds;

/** The scripts' own correctness bar: checks on bodies and statuses pass. Not an SLO. */
export const checksThreshold = 'rate>0.99';

/** The SLO thresholds plus the scripts' own correctness checks (bodies, statuses). */
export function loadTestThresholds() {
  return { ...sloThresholds, checks: [checksThreshold] };
}

/** Trend stats every summary carries: the SLO percentiles need p(99), the reports need count. */
export const summaryTrendStats = ['avg', 'min', 'med', 'p(90)', 'p(95)', 'p(99)', 'max', 'count'];

// Thresholds a load.js run declares besides the SLOs only so that k6 reports a sub-metric (k6's
// summary carries a tagged sub-metric only when a threshold names it). They always hold: latencies
// and counts are never negative, a rate never below 0. The report reads the values they expose.
export const bookkeeping = { trend: 'max>=0', counter: 'count>=0', rate: 'rate>=0' };

const bookkeepingOf = {
  http_req_duration: bookkeeping.trend,
  http_reqs: bookkeeping.counter,
  http_req_failed: bookkeeping.rate,
  rag_query_cached: bookkeeping.rate,
};

/** `metric{a:1,b:2}` → { metric, tags: {a:'1', b:'2'} } (tags in the order written). */
export function parseKey(key) {
  const m = /^([\w.]+)(?:\{(.*)\})?$/.exec(key);
  if (!m) throw new Error(`not a metric key: ${key}`);
  const tags = {};
  for (const pair of (m[2] ?? '').split(',').filter(Boolean)) {
    const i = pair.indexOf(':');
    tags[pair.slice(0, i)] = pair.slice(i + 1);
  }
  return { metric: m[1], tags };
}

// One order for tag names, so one tag set always gives the same key (k6 merges two keys naming
// the same tag set into one sub-metric, and the thresholds of one of them are lost).
const tagOrder = ['method', 'route', 'phase', 'step', 'bucket'];

export function metricKey(metric, tags) {
  const names = Object.keys(tags).sort((a, b) => tagOrder.indexOf(a) - tagOrder.indexOf(b));
  return names.length ? `${metric}{${names.map((n) => `${n}:${tags[n]}`).join(',')}}` : metric;
}

/**
 * The SLO thresholds of one run, on its steady windows only (requests tagged `phase:steady`), so
 * ramps never count. With `abortLatency` the latency objective also stops the run once broken
 * (the searching profiles do not need to go on past the breaking point).
 */
export function steadySloThresholds({ abortLatency = false } = {}) {
  const out = {};
  for (const [key, expressions] of Object.entries(sloThresholds)) {
    const { metric, tags } = parseKey(key);
    out[metricKey(metric, { ...tags, phase: 'steady' })] = expressions.map((threshold) =>
      abortLatency && metric === 'http_req_duration'
        ? { threshold, abortOnFail: true, delayAbortEval: '60s' }
        : threshold,
    );
  }
  out['checks{phase:steady}'] = [checksThreshold];
  return out;
}

/** Adds a bookkeeping threshold for each sub-metric the report reads (SLO keys keep theirs). */
export function withBookkeeping(thresholds, subMetrics) {
  const out = { ...thresholds };
  for (const { metric, tags } of subMetrics) {
    const key = metricKey(metric, tags);
    if (out[key]) continue;
    out[key] = [bookkeepingOf[metric]];
  }
  return out;
}

/** A generated threshold expression (a percentile or rate bound) applied to metric values. */
export function evaluate(expression, values) {
  const m = /^(p\([\d.]+\)|rate|avg|max|min|med|count)\s*(<=|>=|<|>|==)\s*([\d.]+)$/.exec(
    expression,
  );
  if (!m) throw new Error(`cannot evaluate threshold ${expression}`);
  const actual = values?.[m[1]];
  if (actual === undefined) return { actual, ok: true, empty: true };
  const bound = Number(m[3]);
  const ok = {
    '<': actual < bound,
    '<=': actual <= bound,
    '>': actual > bound,
    '>=': actual >= bound,
    '==': actual === bound,
  }[m[2]];
  return { actual, ok, stat: m[1], bound };
}
