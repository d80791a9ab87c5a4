import { defaultProcessMetrics, exposedSeriesNames, metrics } from '../metrics/metric-catalog';
import { exporterMetrics, targetLabels } from '../metrics/exporter-metrics';

// Reads PromQL with the Prometheus project's own Lezer grammar: which metrics and labels a query
// names, whether it parses, and whether counters appear outside rate()/increase(). The
// consistency and dashboard lint tests are built on this.

// The grammar's type declarations are ESM-only, but it ships a CommonJS build; this repo compiles
// to CommonJS, so load that build and borrow the ESM types.
type LezerPromql = typeof import('@prometheus-io/lezer-promql', {
  with: { 'resolution-mode': 'import' },
});
type SyntaxNode = import('@lezer/common', { with: { 'resolution-mode': 'import' } }).SyntaxNode;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { parser } = require('@prometheus-io/lezer-promql') as LezerPromql;

/** Grafana's interval variables are not PromQL: substitute plausible durations before parsing. */
export function substituteGrafanaVariables(expr: string): string {
  return expr.replace(/\$__rate_interval|\$__interval|\$__range/g, '5m');
}

export interface LabelMatch {
  readonly label: string;
  readonly op: '=' | '!=' | '=~' | '!~';
  readonly value: string;
}

export interface MetricReference {
  readonly name: string;
  readonly matcherLabels: readonly string[];
  /** The selector's matchers with their operators and (unquoted) values. */
  readonly matchers: readonly LabelMatch[];
  /** Inside rate(), irate() or increase() (the only valid places for a counter). */
  readonly insideRate: boolean;
}

export interface QueryAnalysis {
  readonly syntaxErrors: readonly string[];
  readonly metrics: readonly MetricReference[];
  /** Labels named in by/without/on/ignoring clauses. */
  readonly groupingLabels: readonly string[];
}

const rateFunctions = new Set(['rate', 'irate', 'increase']);

function text(expr: string, n: SyntaxNode): string {
  return expr.slice(n.from, n.to);
}

function isInsideRate(expr: string, selector: SyntaxNode): boolean {
  const matrix = selector.parent;
  if (matrix?.type.name !== 'MatrixSelector') return false;
  const call = matrix.parent?.parent;
  if (call?.type.name !== 'FunctionCall') return false;
  const id = call.getChild('FunctionIdentifier');
  return !!id && rateFunctions.has(text(expr, id));
}

/** PromQL strings are Go-quoted ("..." with escapes, '...', or raw `...`). */
function unquote(literal: string): string {
  if (literal.startsWith('"')) {
    try {
      return JSON.parse(literal) as string;
    } catch {
      // Go escapes JSON lacks (\a, \x..): the raw text is close enough for label checks.
    }
  }
  return literal.slice(1, -1);
}

function labelMatch(expr: string, m: SyntaxNode): LabelMatch {
  const op = m.getChild('MatchOp');
  const value = m.getChild('StringLiteral');
  return {
    label: text(expr, m.getChild('LabelName') ?? m),
    op: (op ? text(expr, op) : '=') as LabelMatch['op'],
    value: value ? unquote(text(expr, value)) : '',
  };
}

export function analyzeQuery(rawExpr: string): QueryAnalysis {
  const expr = substituteGrafanaVariables(rawExpr);
  const syntaxErrors: string[] = [];
  const refs: MetricReference[] = [];
  const grouping: string[] = [];
  const tree = parser.parse(expr);
  tree.iterate({
    enter(ref) {
      if (ref.type.isError) {
        syntaxErrors.push(
          `syntax error at ${ref.from}: ${JSON.stringify(expr.slice(ref.from, ref.from + 20))}`,
        );
        return;
      }
      const node = ref.node;
      if (ref.type.name === 'VectorSelector') {
        const id = node.getChild('Identifier');
        const matchNodes =
          node.getChild('LabelMatchers')?.getChildren('UnquotedLabelMatcher') ?? [];
        const matchers = matchNodes.map((m) => text(expr, m.getChild('LabelName') ?? m));
        if (id) {
          refs.push({
            name: text(expr, id),
            matcherLabels: matchers,
            matchers: matchNodes.map((m) => labelMatch(expr, m)),
            insideRate: isInsideRate(expr, node),
          });
        }
      }
      if (ref.type.name === 'GroupingLabels') {
        for (const l of node.getChildren('LabelName')) grouping.push(text(expr, l));
      }
    },
  });
  return { syntaxErrors, metrics: refs, groupingLabels: grouping };
}

export interface KnownMetric {
  readonly labels: readonly string[];
  readonly counter: boolean;
  readonly origin: string;
}

/** Every metric a query may name, with its labels: catalog, prom-client defaults, exporters. */
export function knownMetrics(): Map<string, KnownMetric> {
  const known = new Map<string, KnownMetric>();
  for (const def of Object.values(metrics)) {
    for (const name of exposedSeriesNames(def)) {
      const labels = name.endsWith('_bucket') ? [...def.labels, 'le'] : [...def.labels];
      known.set(name, {
        labels: [...labels, ...targetLabels],
        counter: def.type === 'counter',
        origin: 'app catalog',
      });
    }
  }
  for (const name of defaultProcessMetrics) {
    known.set(name, {
      labels: [...targetLabels, ...(name.endsWith('_bucket') ? ['le', 'kind'] : ['kind'])],
      counter: name.endsWith('_total'),
      origin: 'prom-client default metrics',
    });
  }
  for (const [name, def] of Object.entries(exporterMetrics)) {
    known.set(name, {
      labels: [...def.labels, ...targetLabels],
      counter: name.endsWith('_total') && !('gauge' in def),
      origin: def.source,
    });
  }
  return known;
}
