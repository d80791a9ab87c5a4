import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { generatedRuleFiles, shippedAlertmanagerConfig } from '../stack/drill-stack';
import { repoRoot } from '../stack/processes';
import {
  drillAlertmanagerConfig,
  durationMs,
  scaledRuleFile,
  scaleExprDurations,
} from '../stack/time-scale';

// A drill on a compressed clock runs the shipped rules and routing with every duration multiplied
// by one factor and nothing else changed: scaling back must give the shipped files exactly, and
// the Alertmanager config may differ from the shipped one only in endpoints and route timings.

const read = (f: string) => readFileSync(path.join(repoRoot, f), 'utf8');
const factor = 1 / 60;

type Rule = Record<string, unknown> & { expr: string; for?: string };
const rulesOf = (yaml: string) =>
  (parse(yaml) as { groups: { name: string; rules: Rule[] }[] }).groups.flatMap((g) =>
    g.rules.map((r) => ({ group: g.name, ...r })),
  );

/** Every duration literal spelled in milliseconds, so two spellings of one duration compare equal. */
const normalised = (expr: string) =>
  scaleExprDurations(expr, 1).replace(/(\d+)(ms|y|w|d|h|m|s)\b/g, (d) => `${durationMs(d)}ms`);

describe('drills on a compressed clock', () => {
  for (const file of generatedRuleFiles()) {
    it(`${file}: scaled rules are the shipped rules with every duration times the factor`, () => {
      const shipped = rulesOf(read(file));
      const scaled = rulesOf(scaledRuleFile(read(file), factor));
      assert.equal(scaled.length, shipped.length);
      scaled.forEach((s, i) => {
        const o = shipped[i];
        const { expr: se, for: sf, ...sRest } = s;
        const { expr: oe, for: of, ...oRest } = o;
        assert.deepEqual(sRest, oRest, 'names, labels and annotations unchanged');
        assert.equal(
          normalised(scaleExprDurations(se, 1 / factor)),
          normalised(oe),
          `${o.group}: expr`,
        );
        assert.equal(sf === undefined, of === undefined);
        if (sf && of) assert.equal(Math.round(durationMs(sf) / factor), durationMs(of));
      });
      assert.equal(scaledRuleFile(read(file), 1).length > 0, true);
      assert.deepEqual(rulesOf(scaledRuleFile(read(file), 1)), shipped, 'factor 1 is the identity');
    });
  }

  it('a scaled expression really is faster (the check above is not vacuous)', () => {
    assert.equal(
      scaleExprDurations('rate(x[5m]) > 1 and y offset 1h', factor),
      'rate(x[5s]) > 1 and y offset 1m',
    );
  });

  it('the drill Alertmanager config differs from the shipped one only in endpoints and timings', () => {
    const shipped = parse(read(shippedAlertmanagerConfig)) as Record<string, unknown>;
    const drill = drillAlertmanagerConfig(
      read(shippedAlertmanagerConfig),
      {
        secretsDir: '/tmp/drill/secrets',
        receiverUrl: 'http://127.0.0.1:1',
        smtpSmarthost: '127.0.0.1:2',
      },
      factor,
    );
    const differences: string[] = [];
    const walk = (a: unknown, b: unknown, at: string) => {
      if (a && b && typeof a === 'object' && typeof b === 'object') {
        for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
          walk((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${at}.${k}`);
        }
      } else if (a !== b) differences.push(`${at}: ${String(a)} -> ${String(b)}`);
    };
    walk(shipped, drill, '');
    const allowed = differences.filter((d) => {
      const [where, change] = d.split(': ');
      const [from, to] = change.split(' -> ');
      // A webhook's url_file (the dead-man's switch) gives way to the drill's url beside it.
      if (/\.webhook_configs\.\d+\.url_file$/.test(where) && to === 'undefined') {
        return differences.some((o) => o.startsWith(`${where.slice(0, -'_file'.length)}: `));
      }
      if (where.endsWith('_file')) return from.split('/').at(-1) === to.split('/').at(-1);
      if (/\.(pagerduty_configs|webhook_configs)\.\d+\.url$/.test(where))
        return to.startsWith('http://127.0.0.1:1/');
      if (where === '.global.smtp_smarthost') return to === '127.0.0.1:2';
      if (/\.(group_wait|group_interval|repeat_interval)$/.test(where)) {
        return from === 'undefined'
          ? false
          : Math.round(durationMs(to) / factor) === durationMs(from);
      }
      return false;
    });
    assert.deepEqual(
      differences.filter((d) => !allowed.includes(d)),
      [],
    );
    assert.ok(
      differences.some((d) => d.includes('group_interval')),
      'timings scaled',
    );
    assert.ok(
      differences.some((d) => d.includes('pagerduty_configs')),
      'PagerDuty redirected',
    );
  });
});
