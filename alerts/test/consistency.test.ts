import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { analyzeQuery, knownMetrics } from '../../catalog/promql/query-analysis';
import {
  allAlerts,
  allRuleExpressions,
  alertAnnotations,
  ruleFiles,
} from '../src/render/rule-files';
import { grafanaBaseUrl, headingAnchor, repositoryBlobUrl } from '../../catalog/service-identity';
import { repoRoot } from './support/run-tool';
import { shippedDashboards } from './support/shipped-dashboards';

function dashboardQueries(): { source: string; expr: string }[] {
  return shippedDashboards().flatMap((d) =>
    (d.panels ?? []).flatMap((p) =>
      (p.targets ?? []).map((t) => ({ source: `${d.uid} / ${p.title ?? '?'}`, expr: t.expr })),
    ),
  );
}

const recorded = new Map<string, Set<string>>();
for (const f of ruleFiles()) {
  for (const g of f.groups) {
    for (const r of g.rules) {
      if ('record' in r) {
        const labels = recorded.get(r.record) ?? new Set<string>();
        for (const l of Object.keys(r.labels ?? {})) labels.add(l);
        for (const l of analyzeQuery(r.expr).groupingLabels) labels.add(l);
        recorded.set(r.record, labels);
      }
    }
  }
}

describe('consistency between the catalog, rules, dashboards and runbooks', () => {
  const known = knownMetrics();
  const queries = [...allRuleExpressions(), ...dashboardQueries()];

  it('finds the queries to check', () => {
    assert.ok(allRuleExpressions().length > 50);
    assert.ok(dashboardQueries().length > 30);
  });

  it('every query parses with the PromQL grammar', () => {
    const bad = queries.flatMap((q) =>
      analyzeQuery(q.expr).syntaxErrors.map((e) => `${q.source}: ${e}\n  ${q.expr}`),
    );
    assert.deepEqual(bad, []);
  });

  it('every metric and matcher label exists in the catalog, the exporter list or a recording rule', () => {
    const problems: string[] = [];
    for (const q of queries) {
      for (const m of analyzeQuery(q.expr).metrics) {
        const k = known.get(m.name);
        const rec = recorded.get(m.name);
        if (!k && !rec) {
          problems.push(`${q.source}: unknown metric ${m.name}`);
          continue;
        }
        const allowed = k ? new Set(k.labels) : rec!;
        for (const l of m.matcherLabels) {
          if (!allowed.has(l)) problems.push(`${q.source}: ${m.name} has no label ${l}`);
        }
      }
    }
    assert.deepEqual(problems, []);
  });

  it('the parser check rejects an unknown metric (the check can fail)', () => {
    const refs = analyzeQuery('sum(rate(rag_http_requests_totl[5m]))').metrics;
    assert.equal(known.has(refs[0].name), false);
  });

  it('every runbook_url resolves to a runbook file and its heading', () => {
    for (const a of allAlerts()) {
      const url = alertAnnotations(a).runbook_url;
      assert.ok(url.startsWith(repositoryBlobUrl + '/'), url);
      const [file, anchor] = url.slice(repositoryBlobUrl.length + 1).split('#');
      const abs = path.join(repoRoot, file);
      assert.ok(existsSync(abs), `${a.alert}: ${file} does not exist`);
      const headings = readFileSync(abs, 'utf8')
        .split('\n')
        .filter((l) => /^#{1,6} /.test(l))
        .map((l) => headingAnchor(l.replace(/^#+ /, '')));
      assert.ok(headings.includes(anchor), `${a.alert}: no heading #${anchor} in ${file}`);
    }
  });

  it('every alert runbook belongs to an alert', () => {
    const alerts = new Set(allAlerts().map((a) => a.alert));
    const alertBooks = readdirSync(path.join(repoRoot, 'runbooks/alerts'));
    assert.deepEqual(
      alertBooks.filter((f) => !alerts.has(path.basename(f, '.md'))),
      [],
      'runbooks without an alert',
    );
  });

  it('every dashboard_url points at a generated dashboard uid', () => {
    const uids = new Set(shippedDashboards().map((d) => d.uid));
    for (const a of allAlerts()) {
      const url = alertAnnotations(a).dashboard_url;
      const uid = url.slice(`${grafanaBaseUrl}/d/`.length);
      assert.ok(url.startsWith(`${grafanaBaseUrl}/d/`) && uids.has(uid), `${a.alert}: ${url}`);
      assert.ok(existsSync(path.join(repoRoot, `dashboards/generated/${uid}.json`)));
    }
  });
});
