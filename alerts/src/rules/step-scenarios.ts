import { cumulative, expandingNotation, phases } from '../promtool/series-notation';
import { minutes } from '../../../catalog/promql/duration';
import type { AlertScenario, AlertTestPlan, InputSeries } from './rule-model';

// Scenario shape shared by the cause alerts: a signal sits at a healthy value, crosses the
// threshold long enough to fire, then recovers; a second run holds it just on the healthy side
// of the threshold. Values come from each alert's threshold, so moving a threshold moves its test.

export interface StepSpec {
  readonly alert: string;
  readonly for: string;
  /** Minutes a range function (rate/max_over_time window) keeps seeing a change after it ends. */
  readonly memoryMinutes: number;
  /** Series given the per-minute signal values; counters turn them into cumulative values. */
  readonly series: (perMinute: readonly number[]) => InputSeries[];
  readonly healthy: number;
  readonly bad: number;
  /** Healthy-side value close to the threshold: must not fire. */
  readonly nearThreshold: number;
  readonly labels: Readonly<Record<string, string>>;
  /** The alert's `$value` while firing; defaults to `bad`. */
  readonly value?: number;
}

/** Series for a gauge: the signal is the sample value. */
export const gauge =
  (series: string) =>
  (perMinute: readonly number[]): InputSeries[] => [
    { series, values: expandingNotation(perMinute) },
  ];

/** Series for a counter whose per-minute increase is the signal. */
export function counterValues(perMinute: readonly number[]): string {
  return expandingNotation(cumulative(perMinute.slice(1)));
}

export function stepTestPlan(spec: StepSpec): AlertTestPlan {
  const forMinutes = minutes(spec.for);
  const lead = 10 + spec.memoryMinutes;
  const badMinutes = spec.memoryMinutes + forMinutes + 15;
  const tail = spec.memoryMinutes + 20;
  const fireAt = lead + spec.memoryMinutes + forMinutes + 5;
  const resolveAt = lead + badMinutes + spec.memoryMinutes + 10;
  const length = lead + badMinutes + tail;
  const fires: AlertScenario = {
    name: `${spec.alert}: crosses the threshold, fires, resolves`,
    inputSeries: spec.series(
      phases([spec.healthy, lead], [spec.bad, badMinutes], [spec.healthy, tail + 1]),
    ),
    checks: [
      { atMinute: lead - 1, firing: [] },
      { atMinute: fireAt, firing: [{ labels: spec.labels, value: spec.value ?? spec.bad }] },
      { atMinute: resolveAt, firing: [] },
    ],
  };
  const quiet: AlertScenario = {
    name: `${spec.alert}: holds just inside the threshold, stays quiet`,
    inputSeries: spec.series(phases([spec.nearThreshold, length + 1])),
    checks: [fireAt, resolveAt, length].map((atMinute) => ({ atMinute, firing: [] })),
  };
  return { fires, quiet };
}
