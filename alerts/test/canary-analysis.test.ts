import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { analyzeQuery } from '../../catalog/promql/query-analysis';
import { slos } from '../../catalog/slo/slo-definitions';
import {
  canaryAnalysisPath,
  canaryAnalysisTestPath,
  canaryMetrics,
  pagingPair,
} from '../src/canary/canary-analysis';
import { allAlerts, ruleFiles } from '../src/render/rule-files';
import { repoRoot, runToolAsync } from './support/run-tool';

// The canary analysis is the page alert's short window, nothing else: its queries read only the
// recorded SLI series, its thresholds are the page policy's, and promtool shows the verdict flips
// where the threshold is (the live Prometheus test shows the queries return data).

interface ShippedMetric {
  name: string;
  successCondition: string;
  provider: { prometheus: { query: string } };
}

const shipped = () =>
  (
    parse(readFileSync(path.join(repoRoot, canaryAnalysisPath), 'utf8')) as {
      metrics: ShippedMetric[];
    }
  ).metrics;

describe('canary analysis (generated from the SLOs)', function () {
  this.timeout(120_000);

  it('judges every serving SLO (availability and latency), not ingestion freshness', () => {
    assert.deepEqual(
      shipped().map((m) => m.name),
      ['query-availability-burn-rate', 'ingest-availability-burn-rate', 'query-latency-burn-rate'],
    );
    assert.ok(slos.some((s) => s.id === 'ingestion-freshness'));
  });

  it('queries parse and read only series the generated rules record', () => {
    const recorded = new Set(
      ruleFiles().flatMap((f) =>
        f.groups.flatMap((g) => g.rules.flatMap((r) => ('record' in r ? [r.record] : []))),
      ),
    );
    for (const m of shipped()) {
      const a = analyzeQuery(m.provider.prometheus.query);
      assert.deepEqual(a.syntaxErrors, [], m.provider.prometheus.query);
      assert.ok(a.metrics.length > 0);
      for (const ref of a.metrics) assert.ok(recorded.has(ref.name), `${m.name} reads ${ref.name}`);
    }
  });

  it('fails above the factor the page alert uses on the same short window', () => {
    const pair = pagingPair();
    const page = allAlerts().filter(
      (a) => a.severity === 'critical' && 'labels' in a && a.labels?.slo,
    );
    for (const m of canaryMetrics()) {
      const alert = page.find((a) => a.labels?.slo === m.slo);
      assert.ok(alert, `no page alert for ${m.slo}`);
      // The alert's expression compares the same recorded window with factor x budget.
      assert.match(
        alert.expr,
        new RegExp(`ratio_rate${pair.short}\\{slo="${m.slo}"\\} > \\(${pair.factor} \\*`),
      );
      const shippedMetric = shipped().find((s) => s.name === m.name)!;
      assert.equal(shippedMetric.successCondition, `result[0] <= ${pair.factor}`);
    }
  });

  it('promtool: the analysis passes below the threshold and fails above it', async () => {
    const r = await runToolAsync(
      'promtool',
      ['test', 'rules', path.basename(canaryAnalysisTestPath)],
      path.join(repoRoot, 'alerts/tests'),
    );
    assert.equal(r.code, 0, r.output);
  });

  it('promtool: a threshold that moved without the analysis fails the test (the test can fail)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'canary-mutant-'));
    try {
      mkdirSync(path.join(dir, 'generated'));
      mkdirSync(path.join(dir, 'tests'));
      writeFileSync(
        path.join(dir, 'generated/slo.rules.yaml'),
        readFileSync(path.join(repoRoot, 'alerts/generated/slo.rules.yaml'), 'utf8'),
      );
      const test = readFileSync(path.join(repoRoot, canaryAnalysisTestPath), 'utf8');
      const factor = pagingPair().factor;
      assert.ok(test.includes(`<= bool ${factor}`));
      writeFileSync(
        path.join(dir, 'tests/canary.test.yaml'),
        test.replaceAll(`<= bool ${factor}`, `<= bool ${factor * 3}`),
      );
      const r = await runToolAsync('promtool', ['test', 'rules', 'tests/canary.test.yaml'], dir);
      assert.equal(r.code, 1, r.output);
      // The burning scenarios now pass where they must fail.
      assert.match(
        r.output,
        /exp: \{slo="query-availability"\} 0E\+00\s+got: \{slo="query-availability"\} 1E\+00/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
