import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { metrics as catalog, type MetricDefinition } from '../../../catalog/metrics/metric-catalog';

type Labels<D> = D extends { labels: readonly (infer L extends string)[] } ? L : never;
type Instrument<D> = D extends { type: 'counter' }
  ? Counter<Labels<D>>
  : D extends { type: 'gauge' }
    ? Gauge<Labels<D>>
    : Histogram<Labels<D>>;

export type Metrics = { readonly registry: Registry } & {
  readonly [K in keyof typeof catalog]: Instrument<(typeof catalog)[K]>;
};

function instrument(def: MetricDefinition, registry: Registry) {
  const common = {
    name: def.name,
    help: def.help,
    labelNames: [...def.labels],
    registers: [registry],
  };
  switch (def.type) {
    case 'counter':
      return new Counter(common);
    case 'gauge':
      return new Gauge(common);
    case 'histogram':
      return new Histogram({ ...common, buckets: [...(def.buckets ?? [])] });
  }
}

/**
 * One registry per service instance (tests start several in one process), holding prom-client's
 * default process metrics and every instrument declared in the catalog — nothing else.
 */
export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const instruments = Object.fromEntries(
    Object.entries(catalog).map(([key, def]) => [key, instrument(def, registry)]),
  );
  return { registry, ...instruments } as Metrics;
}
