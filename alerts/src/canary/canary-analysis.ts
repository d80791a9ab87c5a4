import { stringify } from 'yaml';
import { metrics } from '../../../catalog/metrics/metric-catalog';
import { minutes } from '../../../catalog/promql/duration';
import { burnRatePolicies, type WindowPair } from '../../../catalog/slo/burn-rate-policy';
import { errorBudget, slos, type SloDefinition } from '../../../catalog/slo/slo-definitions';
import { sliRecordName } from '../../../catalog/slo/slo-series';
import { generatedHeader } from '../render/rule-files';
import { inputSeries, sloRecordingGroup, traffic } from '../slo/slo-rules';

// The canary's judge, derived from the same SLOs and burn-rate policy as the page alerts: for
// every SLO the API pods serve, the short window of the page policy's fastest pair, read from the
// recorded SLI series, divided by the error budget, must stay at or below that pair's factor. A
// canary that would page someone is rolled back before it does. infra reads the generated file and
// ships it as the Rollout's AnalysisTemplate (adding the in-cluster Prometheus address).

export const canaryAnalysisPath = 'alerts/generated/canary-analysis.yaml';
export const canaryAnalysisTestPath = 'alerts/tests/canary-analysis.test.yaml';

export interface CanaryMetric {
  /** AnalysisTemplate metric name (a DNS label: Argo uses it in AnalysisRun status). */
  readonly name: string;
  readonly slo: string;
  readonly window: string;
  /** The burn rate above which the canary fails: the page policy's factor for that window. */
  readonly threshold: number;
  /** The recorded SLI series the query reads (NaN over a window without requests). */
  readonly series: string;
  /** The burn rate alone: empty when the window saw no requests. */
  readonly burnRate: string;
  /** What the analysis runs: the burn rate, or 0 without requests. */
  readonly query: string;
  readonly successCondition: string;
}

/** Serving-path SLOs only: ingestion freshness is the workers', which a canary does not change. */
function servedByApiPods(slo: SloDefinition): boolean {
  return slo.sli.kind === 'request-availability' || slo.sli.metric === metrics.httpRequestDuration;
}

/** The pair of the paging policy that reacts fastest: the one with the shortest short window. */
export function pagingPair(): WindowPair {
  const page = burnRatePolicies.find((p) => p.handling === 'page');
  if (!page) throw new Error('no paging burn-rate policy');
  return [...page.pairs].sort((a, b) => minutes(a.short) - minutes(b.short))[0];
}

/** Measurements per minute of the analysis, and failures tolerated: the page policy's `for`. */
export const analysisInterval = '1m';
export function analysisFailureLimit(): number {
  const page = burnRatePolicies.find((p) => p.handling === 'page')!;
  // `for: 2m` pages after the condition held for two evaluations; a canary tolerates one failed
  // measurement less than that, so it is gone before the page would fire.
  return Math.max(0, minutes(page.for) / minutes(analysisInterval) - 1);
}

export function canaryMetrics(): CanaryMetric[] {
  const pair = pagingPair();
  return slos.filter(servedByApiPods).map((slo) => {
    const ratio = `${sliRecordName(pair.short)}{slo="${slo.id}"}`;
    // `>= 0` drops the NaN of a window without requests (0/0); with no requests at all the
    // canary burned no budget, so the empty result reads as burn rate 0 rather than an error.
    const burnRate = `${ratio} / ${errorBudget(slo)} >= 0`;
    const query = `(${burnRate}) or on() vector(0)`;
    return {
      name: `${slo.id}-burn-rate`,
      slo: slo.id,
      window: pair.short,
      threshold: pair.factor,
      series: ratio,
      burnRate,
      query,
      successCondition: `result[0] <= ${pair.factor}`,
    };
  });
}

/** The AnalysisTemplate's `spec.metrics`, less the Prometheus address infra knows. */
export function renderCanaryAnalysis(): string {
  const doc = {
    metrics: canaryMetrics().map((m) => ({
      name: m.name,
      interval: analysisInterval,
      failureLimit: analysisFailureLimit(),
      successCondition: m.successCondition,
      provider: { prometheus: { query: m.query } },
    })),
  };
  return generatedHeader + stringify(doc, { lineWidth: 0 });
}

/**
 * promtool evaluates each analysis query over the recorded SLI series (the generated SLO rules)
 * on traffic burning at twice the threshold and at half of it, and a window without traffic.
 * The successCondition `result[0] <= F` is the PromQL `<= bool F`: 1 passes, 0 fails.
 */
export function canaryAnalysisTestFile(): { path: string; content: string } {
  const evalMinute = 20;
  const tests = canaryMetrics().flatMap((m) => {
    const slo = slos.find((s) => s.id === m.slo)!;
    const budget = errorBudget(slo);
    const expr = `(${m.query}) <= bool ${m.threshold}`;
    const scenario = (name: string, factor: number, pass: number) => ({
      name: `${m.name}: burning at ${factor}x budget ${pass ? 'passes' : 'fails'}`,
      interval: '1m',
      input_series: inputSeries(slo, traffic(factor * budget, 30, 31)).map((s) => ({
        series: s.series,
        values: s.values,
      })),
      promql_expr_test: [
        {
          expr,
          eval_time: `${evalMinute}m`,
          exp_samples: [{ labels: `{slo="${slo.id}"}`, value: pass }],
        },
      ],
    });
    return [
      scenario(m.name, 2 * m.threshold, 0),
      scenario(m.name, m.threshold / 2, 1),
      {
        name: `${m.name}: no requests in the window passes`,
        interval: '1m',
        input_series: [],
        promql_expr_test: [
          { expr, eval_time: `${evalMinute}m`, exp_samples: [{ labels: '{}', value: 1 }] },
        ],
      },
    ];
  });
  const doc = {
    rule_files: ['../generated/slo.rules.yaml'],
    evaluation_interval: '1m',
    group_eval_order: [sloRecordingGroup],
    tests,
  };
  return {
    path: canaryAnalysisTestPath,
    content: generatedHeader + stringify(doc, { lineWidth: 0 }),
  };
}
