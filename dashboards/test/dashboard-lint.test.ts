import assert from 'node:assert/strict';
import { dashboards } from '../src/dashboard-generator';
import { datasourceRef, datasourceVariable } from '../src/panel-kit';
import { analyzeQuery, knownMetrics } from '../../catalog/promql/query-analysis';

interface PanelJson {
  type: string;
  title?: string;
  datasource?: { uid?: string };
  fieldConfig?: { defaults?: { unit?: string } };
  targets?: { expr?: string; datasource?: { uid?: string } }[];
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
