import { hsel, leLabel, sel, seriesLiteral } from '../../../catalog/promql/selector';
import { metrics } from '../../../catalog/metrics/metric-catalog';
import { dashboardUids } from '../../../catalog/dashboard-uids';
import { cumulative, expandingNotation } from '../promtool/series-notation';
import { minutes } from '../../../catalog/promql/duration';
import { sliRecordName, sloSeries } from '../../../catalog/slo/slo-series';
import type {
  AlertCheck,
  AlertDefinition,
  AlertScenario,
  InputSeries,
  RecordingRule,
} from '../rules/rule-model';
import {
  burnRatePolicies,
  sliWindows,
  type BurnRateAlertPolicy,
} from '../../../catalog/slo/burn-rate-policy';
import {
  assertSloWellFormed,
  errorBudget,
  slos,
  type SloDefinition,
} from '../../../catalog/slo/slo-definitions';

// SLI recording rules (Sloth's naming: slo:sli_error:ratio_rate<window>), SLO metadata series
// (objective, budget, burn rates, budget remaining) and the multi-window multi-burn-rate alerts,
// each alert with promtool scenarios computed from the same objective and windows.

export const sloRecordingGroup = 'rag-slo-sli-recordings';
export const sloMetadataGroup = 'rag-slo-metadata';
export const sloAlertGroup = 'rag-slo-alerts';

function sliErrorRatioExpr(slo: SloDefinition, window: string): string {
  const { sli } = slo;
  if (sli.kind === 'request-availability') {
    const m = { route: sli.route, method: sli.method };
    const errors = sel(metrics.httpRequests, { ...m, status_code: { re: '5..' } });
    const total = sel(metrics.httpRequests, m);
    // No 5xx series exists until the first server error: count that as zero errors, not no data.
    return `(sum(rate(${errors}[${window}])) or vector(0)) / sum(rate(${total}[${window}]))`;
  }
  const good = hsel(sli.metric, '_bucket', { ...sli.matchers, le: leLabel(sli.thresholdSeconds) });
  const total = hsel(sli.metric, '_count', sli.matchers);
  return `1 - (sum(rate(${good}[${window}])) / sum(rate(${total}[${window}])))`;
}

const periodWindow = (slo: SloDefinition) => `${slo.periodDays}d`;

export function sloRecordingRules(): RecordingRule[] {
  return slos.flatMap((slo) => {
    assertSloWellFormed(slo);
    return sliWindows().map((w) => ({
      record: sliRecordName(w),
      expr: sliErrorRatioExpr(slo, w),
      labels: { slo: slo.id },
    }));
  });
}

export function sloMetadataRules(): RecordingRule[] {
  return slos.flatMap((slo) => {
    const l = { slo: slo.id };
    const s = `{slo="${slo.id}"}`;
    const budget = errorBudget(slo);
    const period = periodWindow(slo);
    return [
      { record: sloSeries.objective, expr: `vector(${slo.objective})`, labels: l },
      { record: sloSeries.errorBudget, expr: `vector(${budget})`, labels: l },
      { record: sloSeries.periodDays, expr: `vector(${slo.periodDays})`, labels: l },
      {
        record: sloSeries.currentBurnRate,
        expr: `${sliRecordName('5m')}${s} / ${budget}`,
        labels: l,
      },
      {
        // The period ratio is the mean of the 5m ratios: a 30d rate() over raw counters would
        // scan 30 days of raw samples on every evaluation.
        record: sliRecordName(period),
        expr: `avg_over_time(${sliRecordName('5m')}${s}[${period}])`,
        labels: l,
      },
      {
        record: sloSeries.periodBurnRate,
        expr: `${sliRecordName(period)}${s} / ${budget}`,
        labels: l,
      },
      {
        record: sloSeries.periodErrorBudgetRemaining,
        expr: `1 - ${sloSeries.periodBurnRate}${s}`,
        labels: l,
      },
    ];
  });
}

function burnAlertExpr(slo: SloDefinition, policy: BurnRateAlertPolicy): string {
  const s = `{slo="${slo.id}"}`;
  const budget = errorBudget(slo);
  return policy.pairs
    .map(
      (p) =>
        `(${sliRecordName(p.long)}${s} > (${p.factor} * ${budget})` +
        ` and ${sliRecordName(p.short)}${s} > (${p.factor} * ${budget}))`,
    )
    .join(' or ');
}

// ---- promtool scenarios, derived from the objective and the windows --------------------------

/** Requests per minute in the synthetic traffic: large enough for integer error counts. */
const requestsPerMinute = 100_000;

export interface Traffic {
  readonly bad: number[];
  readonly total: number[];
}

/** Traffic with error ratio `ratio` for `badMinutes`, then clean traffic until `totalMinutes`. */
export function traffic(ratio: number, badMinutes: number, totalMinutes: number): Traffic {
  const badPerMinute = Math.round(requestsPerMinute * ratio);
  const bad = Array.from({ length: totalMinutes }, (_, i) => (i < badMinutes ? badPerMinute : 0));
  return { bad: cumulative(bad), total: cumulative(bad.map(() => requestsPerMinute)) };
}

export function inputSeries(slo: SloDefinition, t: Traffic): InputSeries[] {
  const { sli } = slo;
  const good = t.total.map((v, i) => v - t.bad[i]);
  if (sli.kind === 'request-availability') {
    const l = { route: sli.route, method: sli.method };
    return [
      {
        series: seriesLiteral(metrics.httpRequests.name, { ...l, status_code: '200' }),
        values: expandingNotation(good),
      },
      {
        series: seriesLiteral(metrics.httpRequests.name, { ...l, status_code: '503' }),
        values: expandingNotation(t.bad),
      },
    ];
  }
  const name = sli.metric.name;
  return [
    {
      series: seriesLiteral(`${name}_bucket`, {
        ...sli.matchers,
        le: leLabel(sli.thresholdSeconds),
      }),
      values: expandingNotation(good),
    },
    { series: seriesLiteral(`${name}_count`, sli.matchers), values: expandingNotation(t.total) },
  ];
}

/**
 * The error ratio a window sees at minute `t`, as rate()/rate() computes it on 1-minute samples.
 * Returns both readings of the window's left edge (sample at exactly t-w included or not) so the
 * scenario can insist on times where the edge does not change the verdict.
 */
function windowRatios(t: Traffic, at: number, window: number): number[] {
  return [at - window, at - window + 1].flatMap((start) => {
    const s = Math.max(0, start);
    if (s >= at) return [];
    const dTotal = t.total[at] - t.total[s];
    return dTotal > 0 ? [(t.bad[at] - t.bad[s]) / dTotal] : [];
  });
}

/** Whether the policy's condition holds at minute `at`, and the `$value` it would report. */
function conditionAt(
  slo: SloDefinition,
  policy: BurnRateAlertPolicy,
  t: Traffic,
  at: number,
): { holds: boolean; value: number } {
  const budget = errorBudget(slo);
  for (const p of policy.pairs) {
    const threshold = p.factor * budget;
    const long = windowRatios(t, at, minutes(p.long));
    const short = windowRatios(t, at, minutes(p.short));
    const verdicts = [...long, ...short].map((r) => {
      if (Math.abs(r - threshold) < threshold * 0.05) {
        throw new Error(`${slo.id}: scenario ratio ${r} too close to threshold ${threshold}`);
      }
      return r > threshold;
    });
    const holds = (rs: number[]) => rs.length > 0 && rs.every((r) => r > threshold);
    if (new Set(verdicts.slice(0, long.length)).size > 1) throw new Error('window edge decides');
    if (new Set(verdicts.slice(long.length)).size > 1) throw new Error('window edge decides');
    if (holds(long) && holds(short)) return { holds: true, value: long[0] };
  }
  return { holds: false, value: NaN };
}

function expectedChecks(slo: SloDefinition, t: Traffic, atMinutes: number[]): AlertCheck[] {
  return atMinutes.map((at) => ({
    atMinute: at,
    firing: burnRatePolicies.flatMap((policy) => {
      const forMinutes = minutes(policy.for);
      const held = Array.from({ length: forMinutes + 1 }, (_, k) => at - k).every(
        (m) => m >= 0 && conditionAt(slo, policy, t, m).holds,
      );
      if (!held) return [];
      return [
        { labels: { severity: policy.severity }, value: conditionAt(slo, policy, t, at).value },
      ];
    }),
  }));
}

function burnScenarios(slo: SloDefinition, policy: BurnRateAlertPolicy): AlertScenario[] {
  const budget = errorBudget(slo);
  const maxFactor = Math.max(...policy.pairs.map((p) => p.factor));
  const minFactor = Math.min(...policy.pairs.map((p) => p.factor));
  const longestShort = Math.max(...policy.pairs.map((p) => minutes(p.short)));
  const forMinutes = minutes(policy.for);
  // Burn at 1.5x the fastest rate of this policy for long enough to fire, then stop.
  const badMinutes = forMinutes + 30;
  const resolveAt = badMinutes + longestShort + forMinutes + 10;
  const fireAt = forMinutes + 10;
  const burning = traffic(Math.min(1, 1.5 * maxFactor * budget), badMinutes, resolveAt + 1);
  // 0.4x the slowest rate of this policy, for longer than its longest window: must stay quiet.
  const longestLong = Math.max(...policy.pairs.map((p) => minutes(p.long)));
  // The ratio is constant from the first sample, so every window sees it once the longest short
  // window has filled: no need to simulate the full long window.
  const quietLength = Math.min(longestLong, longestShort) + forMinutes + 60;
  const quiet = traffic(0.4 * minFactor * budget, quietLength, quietLength);
  const quietAt = [fireAt, Math.floor(quietLength / 2), quietLength];

  const fires: AlertScenario = {
    name: `${slo.alert} ${policy.handling}: burns at ${1.5 * maxFactor}x budget, fires, resolves`,
    inputSeries: inputSeries(slo, burning),
    checks: expectedChecks(slo, burning, [fireAt, resolveAt]),
  };
  const [atFire, atResolve] = fires.checks;
  const fired = (c: AlertCheck) => c.firing.some((f) => f.labels.severity === policy.severity);
  if (!fired(atFire) || fired(atResolve)) {
    throw new Error(`${slo.id} ${policy.handling}: scenario does not fire then resolve`);
  }
  const quietScenario: AlertScenario = {
    name: `${slo.alert} ${policy.handling}: burns at ${0.4 * minFactor}x budget, stays quiet`,
    inputSeries: inputSeries(slo, quiet),
    checks: expectedChecks(slo, quiet, quietAt),
  };
  if (quietScenario.checks.some(fired)) throw new Error(`${slo.id}: quiet scenario fires`);
  return [fires, quietScenario];
}

export function sloAlerts(): AlertDefinition[] {
  return slos.flatMap((slo) =>
    burnRatePolicies.map((policy): AlertDefinition => {
      const [fires, quiet] = burnScenarios(slo, policy);
      const pairs = policy.pairs
        .map((p) => `${p.factor}x over ${p.long} and ${p.short}`)
        .join(', or ');
      return {
        alert: slo.alert,
        group: sloAlertGroup,
        expr: burnAlertExpr(slo, policy),
        for: policy.for,
        severity: policy.severity,
        labels: { slo: slo.id },
        summary: `${slo.title} is burning its error budget too fast (${policy.handling}).`,
        description:
          `{{ $labels.slo }}: {{ $value | humanizePercentage }} of events are bad over the long ` +
          `window (objective ${slo.objective * 100}% over ${slo.periodDays}d; ${policy.handling} ` +
          `threshold: ${pairs}).`,
        dashboardUid: dashboardUids.slo,
        tests: { fires, quiet },
      };
    }),
  );
}
