import assert from 'node:assert/strict';
import { dashboards } from '../src/dashboard-generator';
import { datasourceRef, datasourceVariable } from '../src/panel-kit';
import { analyzeQuery, knownMetrics, type KnownMetric } from '../../catalog/promql/query-analysis';
import { serviceIdentity } from '../../catalog/service-identity';

interface PanelJson {
  type: string;
  title?: string;
  description?: string;
  datasource?: { uid?: string };
  fieldConfig?: { defaults?: { unit?: string } };
  targets?: { expr?: string; datasource?: { uid?: string } }[];
}

// Metrics the service itself exports: prom-client's process_*/nodejs_* exist in every Node.js
// process of the cluster, so a query without the service's job plots all of them.
const serviceOrigins = new Set(['app catalog', 'prom-client default metrics']);

/** Selectors in a query that name a service metric without `job="<the service's job>"`. */
function unscopedServiceSelectors(expr: string, known: Map<string, KnownMetric>): string[] {
  return analyzeQuery(expr)
    .metrics.filter((m) => serviceOrigins.has(known.get(m.name)?.origin ?? ''))
    .filter(
      (m) =>
        !m.matchers.some(
          (x) => x.label === 'job' && x.op === '=' && x.value === serviceIdentity.job,
        ),
    )
    .map((m) => m.name);
}

describe('dashboard lint', () => {
  const all = dashboards();
  const known = knownMetrics();
  const panels = all.flatMap((d) =>
    (d.panels as PanelJson[]).filter((p) => p.type !== 'row').map((p) => ({ d: d.uid, p })),
  );

  it('has the five dashboards with unique uids', () => {
    assert.equal(new Set(all.map((d) => d.uid)).size, 5);
  });

  it('declares the datasource variable, and every panel and query uses it', () => {
    for (const d of all) {
      assert.ok(
        d.templating?.list?.some((v) => v.name === datasourceVariable && v.type === 'datasource'),
      );
    }
    for (const { d, p } of panels) {
      assert.equal(p.datasource?.uid, datasourceRef.uid, `${d} / ${p.title}`);
      for (const t of p.targets ?? []) assert.equal(t.datasource?.uid, datasourceRef.uid);
    }
  });

  it('titles every panel and gives it a unit', () => {
    for (const { d, p } of panels) {
      assert.ok(p.title?.trim(), `${d}: untitled ${p.type} panel`);
      assert.ok(p.fieldConfig?.defaults?.unit, `${d} / ${p.title}: no unit`);
    }
  });

  it('describes every panel (what it shows and how to read it)', () => {
    const missing = panels.filter(({ p }) => !p.description?.trim());
    assert.deepEqual(
      missing.map(({ d, p }) => `${d} / ${p.title}`),
      [],
    );
  });

  it("selects the service's job in every query on a service or process metric", () => {
    const findings = panels.flatMap(({ d, p }) =>
      (p.targets ?? []).flatMap((t) =>
        unscopedServiceSelectors(t.expr ?? '', known).map((m) => `${d} / ${p.title}: ${m}`),
      ),
    );
    assert.deepEqual(findings, []);
  });

  it('the job check catches a process metric without the job (the lint can fail)', () => {
    assert.deepEqual(unscopedServiceSelectors('rate(process_cpu_seconds_total[5m])', known), [
      'process_cpu_seconds_total',
    ]);
    assert.deepEqual(unscopedServiceSelectors('nodejs_heap_size_used_bytes{job="other"}', known), [
      'nodejs_heap_size_used_bytes',
    ]);
    assert.deepEqual(
      unscopedServiceSelectors(
        `process_resident_memory_bytes{job="${serviceIdentity.job}"}`,
        known,
      ),
      [],
    );
  });

  it('uses $__rate_interval in every rate()/irate()/increase()', () => {
    for (const { d, p } of panels) {
      for (const t of p.targets ?? []) {
        const windows = [
          ...(t.expr ?? '').matchAll(/\b(?:rate|irate|increase)\([^[]*\[([^\]]+)\]/g),
        ];
        for (const w of windows)
          assert.equal(w[1], '$__rate_interval', `${d} / ${p.title}: ${t.expr}`);
      }
    }
  });

  it('uses counters only inside rate()/increase(), and every query parses', () => {
    for (const { d, p } of panels) {
      assert.ok(p.targets?.length, `${d} / ${p.title}: no query`);
      for (const t of p.targets ?? []) {
        const a = analyzeQuery(t.expr ?? '');
        assert.deepEqual(a.syntaxErrors, [], `${d} / ${p.title}: ${t.expr}`);
        for (const m of a.metrics) {
          if (known.get(m.name)?.counter)
            assert.ok(m.insideRate, `${d} / ${p.title}: bare counter ${m.name}`);
        }
      }
    }
  });

  it('the counter check catches a bare counter (the lint can fail)', () => {
    const a = analyzeQuery('sum(rag_http_requests_total)');
    assert.equal(a.metrics[0].insideRate, false);
    assert.equal(known.get('rag_http_requests_total')?.counter, true);
  });
});
