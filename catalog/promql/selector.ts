import type { defaultProcessMetrics, MetricDefinition } from '../metrics/metric-catalog';
import {
  exporterMetrics,
  type ExporterMetricName,
  type targetLabels,
} from '../metrics/exporter-metrics';

// Builds PromQL selectors from the metric catalog and the declared exporter list, so no rule or
// panel spells a metric name as a free string: renaming a catalog entry renames every query.

export type LabelMatcher = string | { readonly re: string } | { readonly ne: string };

/** Labels Prometheus adds to every scraped series (the scrape target's identity, e.g. `job`). */
type TargetLabel = (typeof targetLabels)[number];
type LabelsOf<D extends MetricDefinition> = D['labels'][number] | TargetLabel;
type HistogramSuffix = '_bucket' | '_sum' | '_count';

function renderMatchers(matchers: Record<string, LabelMatcher | undefined>): string {
  const parts = Object.entries(matchers)
    .filter((entry): entry is [string, LabelMatcher] => entry[1] !== undefined)
    .map(([label, m]) => {
      if (typeof m === 'string') return `${label}=${JSON.stringify(m)}`;
      if ('re' in m) return `${label}=~${JSON.stringify(m.re)}`;
      return `${label}!=${JSON.stringify(m.ne)}`;
    });
  return parts.length ? `{${parts.join(', ')}}` : '';
}

/** A selector on a catalog metric (counter or gauge). */
export function sel<D extends MetricDefinition>(
  def: D,
  matchers: Partial<Record<LabelsOf<D>, LabelMatcher>> = {},
): string {
  if (def.type === 'histogram') throw new Error(`${def.name} is a histogram: use hsel()`);
  return def.name + renderMatchers(matchers);
}

/** A selector on one of the series a catalog histogram exposes. */
export function hsel<D extends MetricDefinition>(
  def: D,
  suffix: HistogramSuffix,
  matchers: Partial<Record<LabelsOf<D> | 'le', LabelMatcher>> = {},
): string {
  if (def.type !== 'histogram') throw new Error(`${def.name} is not a histogram`);
  return def.name + suffix + renderMatchers(matchers);
}

/** A selector on one of prom-client's default process metrics (every Node.js process has them). */
export function psel(
  name: (typeof defaultProcessMetrics)[number],
  matchers: Partial<Record<TargetLabel, LabelMatcher>> = {},
): string {
  return name + renderMatchers(matchers);
}

/** A selector on a declared exporter metric. */
export function xsel<N extends ExporterMetricName>(
  name: N,
  matchers: Partial<Record<(typeof exporterMetrics)[N]['labels'][number], LabelMatcher>> = {},
): string {
  return name + renderMatchers(matchers);
}

/** How Prometheus renders a histogram bucket bound in the `le` label (prom-client does the same). */
export function leLabel(bound: number): string {
  return String(bound);
}

/** The concrete label set of an input series for promtool tests, e.g. `name{a="b"}`. */
export function seriesLiteral(name: string, labels: Record<string, string>): string {
  return name + renderMatchers(labels);
}
