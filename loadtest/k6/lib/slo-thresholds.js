// The load tests' pass/fail criteria. The SLO objectives are not written here: they are generated
// from the catalog's SLOs (catalog/slo, `npm run gen`) into loadtest/generated/thresholds.json, the same source as
// the burn-rate alerts, so a load test fails exactly when it would burn the error budget.
/* global open */

const generated = JSON.parse(open('../../generated/thresholds.json'));

/** Threshold expressions keyed by `metric{method:…,route:…}`, as generated. */
export const sloThresholds = generated.thresholds;

/** The SLO thresholds plus the scripts' own correctness checks (bodies, statuses). */
export function loadTestThresholds() {
  return { ...sloThresholds, checks: ['rate>0.99'] };
}

/** Trend stats every summary carries: the SLO percentiles need p(99), the reports need count. */
export const summaryTrendStats = ['avg', 'min', 'med', 'p(90)', 'p(95)', 'p(99)', 'max', 'count'];
