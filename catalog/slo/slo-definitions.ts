import { metrics } from '../metrics/metric-catalog';

// The service-level objectives, as data. Everything SLO-shaped is derived from this list: the
// SLI recording rules, the burn-rate alerts and their promtool tests, the SLO dashboard and the
// k6 thresholds. Change an objective here and `npm run gen` carries it everywhere.

/** Requests whose status code is 5xx count against availability; 4xx are the client's fault. */
export interface RequestAvailabilitySli {
  readonly kind: 'request-availability';
  readonly route: string;
  readonly method: string;
}

/** Events slower than `thresholdSeconds` (an exact bucket bound of the histogram) are bad. */
export interface LatencySli {
  readonly kind: 'latency';
  readonly metric: typeof metrics.httpRequestDuration | typeof metrics.ingestLag;
  readonly thresholdSeconds: number;
  /** Label matchers on the histogram (route/method for HTTP, none for ingest lag). */
  readonly matchers: Readonly<Record<string, string>>;
}

export type Sli = RequestAvailabilitySli | LatencySli;

export interface SloDefinition {
  /** Stable id, used as the `slo` label of every series and alert derived from it. */
  readonly id: string;
  /** Alert name of the burn-rate alerts (page and ticket share it; `severity` tells them apart). */
  readonly alert: string;
  readonly title: string;
  readonly description: string;
  /** Fraction of good events over the period, e.g. 0.999. */
  readonly objective: number;
  readonly periodDays: number;
  readonly sli: Sli;
}

export const queryRoute = '/v1/query';
export const ingestRoute = '/v1/collections/:collectionId/documents';

export const slos: readonly SloDefinition[] = [
  {
    id: 'query-availability',
    alert: 'QueryAvailabilityBudgetBurn',
    title: 'Query API availability',
    description: 'POST /v1/query answers without a server error (non-5xx).',
    objective: 0.999,
    periodDays: 30,
    sli: { kind: 'request-availability', route: queryRoute, method: 'POST' },
  },
  {
    id: 'ingest-availability',
    alert: 'IngestAvailabilityBudgetBurn',
    title: 'Ingest API availability',
    description: 'POST /v1/collections/:collectionId/documents accepts documents without a 5xx.',
    objective: 0.999,
    periodDays: 30,
    sli: { kind: 'request-availability', route: ingestRoute, method: 'POST' },
  },
  {
    id: 'query-latency',
    alert: 'QueryLatencyBudgetBurn',
    title: 'Query API latency',
    description: 'POST /v1/query answers within 1 second.',
    objective: 0.99,
    periodDays: 30,
    sli: {
      kind: 'latency',
      metric: metrics.httpRequestDuration,
      thresholdSeconds: 1,
      matchers: { route: queryRoute, method: 'POST' },
    },
  },
  {
    id: 'ingestion-freshness',
    alert: 'IngestionFreshnessBudgetBurn',
    title: 'Ingestion freshness',
    description: 'An accepted document becomes searchable within 60 seconds.',
    objective: 0.99,
    periodDays: 30,
    sli: { kind: 'latency', metric: metrics.ingestLag, thresholdSeconds: 60, matchers: {} },
  },
];

/** Error budget as a ratio, rounded so PromQL literals stay readable (1 - 0.999 = 0.001). */
export function errorBudget(slo: SloDefinition): number {
  return Number((1 - slo.objective).toPrecision(10));
}

/** A threshold on a latency SLI must be a bucket bound, or the SLI would be interpolated. */
export function assertSloWellFormed(slo: SloDefinition): void {
  if (!(slo.objective > 0 && slo.objective < 1)) throw new Error(`${slo.id}: objective`);
  if (slo.sli.kind === 'latency') {
    const buckets: readonly number[] = slo.sli.metric.buckets;
    if (!buckets.includes(slo.sli.thresholdSeconds)) {
      throw new Error(`${slo.id}: ${slo.sli.thresholdSeconds}s is not a bucket bound`);
    }
  }
}
