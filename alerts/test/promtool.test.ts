import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { allAlerts, ruleFiles } from '../src/render/rule-files';
import { promtoolTestFiles } from '../src/render/promtool-tests';
import { serviceThresholds } from '../src/rules/service-cause-alerts';
import { repoRoot, runTool, runToolAsync } from './support/run-tool';

interface AlertTest {
  alertname: string;
  eval_time: string;
  exp_alerts: unknown[];
}
interface TestGroup {
  name: string;
  alert_rule_test: AlertTest[];
}

describe('promtool', function () {
  this.timeout(300_000);

  it('check rules accepts every generated rule file', () => {
    const files = ruleFiles().map((f) => f.path);
    const r = runTool('promtool', ['check', 'rules', ...files]);
    assert.equal(r.code, 0, r.output);
  });

  it('every alert has a firing-then-resolving case and a quiet case (Watchdog: always fires)', () => {
    const groups: TestGroup[] = promtoolTestFiles().flatMap(
      (f) => (parse(f.content) as { tests: TestGroup[] }).tests,
    );
    for (const alert of new Set(allAlerts().map((a) => a.alert))) {
      const cases = groups.flatMap((g) => g.alert_rule_test.filter((t) => t.alertname === alert));
      assert.ok(
        cases.some((c) => c.exp_alerts.length > 0),
        `${alert} never expected to fire`,
      );
      if (alert === 'Watchdog') continue;
      const firingGroups = groups.filter((g) =>
        g.alert_rule_test.some((t) => t.alertname === alert && t.exp_alerts.length > 0),
      );
      assert.ok(
        firingGroups.every((g) => {
          const cs = g.alert_rule_test.filter((t) => t.alertname === alert);
          const firstFire = cs.findIndex((c) => c.exp_alerts.length > 0);
          return cs.slice(firstFire).some((c) => c.exp_alerts.length === 0);
        }) || groups.some((g) => g.name.startsWith(alert) && g.name.includes('resolves')),
        `${alert} has no resolution check`,
      );
      assert.ok(
        groups.some(
          (g) =>
            g.name.includes('quiet') &&
            g.alert_rule_test.some((t) => t.alertname === alert) &&
            g.alert_rule_test.every((t) => t.alertname !== alert || t.exp_alerts.length === 0),
        ),
        `${alert} has no quiet case`,
      );
    }
  });

  for (const file of promtoolTestFiles()) {
    it(`test rules passes ${file.path}`, async () => {
      // promtool runs a file's test groups one after another on one core; the groups are
      // independent, so halves of the file run side by side (same rules, same global settings).
      const doc = parse(readFileSync(path.join(repoRoot, file.path), 'utf8')) as {
        rule_files: string[];
        tests: unknown[];
      };
      const dir = mkdtempSync(path.join(tmpdir(), 'promtool-parts-'));
      const ruleFilesHere = doc.rule_files.map((r) =>
        path.resolve(repoRoot, path.dirname(file.path), r),
      );
      const parts = [0, 1]
        .map((half) => doc.tests.filter((_, i) => i % 2 === half))
        .filter((tests) => tests.length > 0);
      assert.equal(parts.flat().length, doc.tests.length);
      const results = await Promise.all(
        parts.map((tests, i) => {
          const part = path.join(dir, `part-${i}.test.yaml`);
          writeFileSync(part, stringify({ ...doc, rule_files: ruleFilesHere, tests }));
          return runToolAsync('promtool', ['test', 'rules', part]);
        }),
      );
      rmSync(dir, { recursive: true, force: true });
      for (const r of results) assert.equal(r.code, 0, r.output);
    });
  }

  it('test rules fails when a threshold moves without its test (the tests can fail)', () => {
    // Raise the replica-lag threshold in a copy of the rules only: the derived test must break.
    const dir = mkdtempSync(path.join(tmpdir(), 'promtool-mutant-'));
    mkdirSync(path.join(dir, 'generated'));
    mkdirSync(path.join(dir, 'tests'));
    const rules = readFileSync(path.join(repoRoot, 'alerts/generated/causes.rules.yaml'), 'utf8');
    const needle = `> ${serviceThresholds.replicaLagSeconds}\n`;
    assert.ok(rules.includes(needle));
    writeFileSync(
      path.join(dir, 'generated/causes.rules.yaml'),
      rules.replace(needle, `> ${serviceThresholds.replicaLagSeconds * 2}\n`),
    );
    // Only the alert's own test groups: promtool evaluates every rule for each group, and the other
    // 33 groups of the file test other alerts (their passing is shown by the test above).
    const test = parse(
      readFileSync(path.join(repoRoot, 'alerts/tests/causes.test.yaml'), 'utf8'),
    ) as { tests: TestGroup[] };
    const own = test.tests.filter((g) =>
      g.alert_rule_test.some((t) => t.alertname === 'PostgresReplicaLagging'),
    );
    assert.ok(own.some((g) => g.alert_rule_test.some((t) => t.exp_alerts.length > 0)));
    writeFileSync(path.join(dir, 'tests/causes.test.yaml'), stringify({ ...test, tests: own }));
    const r = runTool('promtool', ['test', 'rules', 'tests/causes.test.yaml'], dir);
    assert.equal(r.code, 1, r.output);
    assert.match(r.output, /PostgresReplicaLagging/);
  });
});
