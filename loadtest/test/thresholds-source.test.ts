import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { generatedThresholds, k6Binary, repoRoot } from './support/k6';

// One source of truth: the SLO numbers live in catalog/slo and reach k6 only through
// loadtest/generated/thresholds.json. k6 itself reports each script's effective options.

const k6Dir = path.join(repoRoot, 'loadtest/k6');

function scripts(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.js'))
    .map((f) => path.join(dir, f));
}

function inspectedThresholds(script: string): Record<string, string[]> | null {
  // bench.js refuses to load without a target; its options do not depend on which one.
  const out = execFileSync(k6Binary(), ['inspect', '--env', 'BENCH_TARGET=hello', script], {
    cwd: repoRoot,
    encoding: 'utf8',
  });
  return JSON.parse(out).thresholds;
}

describe('k6 thresholds come from the generated SLO thresholds', function () {
  this.timeout(30_000);

  for (const script of ['smoke.js', 'sla.js']) {
    it(`${script} enforces exactly the generated SLO thresholds plus the checks rate`, () => {
      assert.deepEqual(inspectedThresholds(path.join(k6Dir, script)), {
        ...generatedThresholds(),
        checks: ['rate>0.99'],
      });
    });
  }

  it('no other top-level script declares thresholds of its own', () => {
    for (const file of readdirSync(k6Dir).filter((f) => f.endsWith('.js'))) {
      const thresholds = inspectedThresholds(path.join(k6Dir, file));
      if (thresholds === null) continue;
      for (const [metric, expressions] of Object.entries(thresholds)) {
        const expected = metric === 'checks' ? ['rate>0.99'] : generatedThresholds()[metric];
        assert.deepEqual(expressions, expected, `${file}: ${metric}`);
      }
    }
  });

  it('no script writes an SLO-shaped number (percentile or rate bound) by hand', () => {
    const sloShaped = /p\(\s*[\d.]+\s*\)\s*[<>]=?\s*\d|rate\s*[<>]=?\s*[\d.]+/g;
    for (const file of scripts(k6Dir)) {
      const source = readFileSync(file, 'utf8');
      const found = (source.match(sloShaped) ?? []).filter(
        // The checks pass rate is the scripts' own correctness bar, not an SLO.
        (m) => !(m === 'rate>0.99' && file.endsWith('slo-thresholds.js')),
      );
      assert.deepEqual(found, [], path.relative(repoRoot, file));
    }
  });

  it('every route a threshold selects is a route the API lib tags its requests with', () => {
    const lib = readFileSync(path.join(k6Dir, 'lib/rag-api.js'), 'utf8');
    for (const metric of Object.keys(generatedThresholds())) {
      const route = /route:([^,}]+)/.exec(metric)?.[1];
      assert.ok(route, `${metric} selects no route`);
      assert.ok(lib.includes(`'${route}'`), `${route} is not a route of lib/rag-api.js`);
    }
  });
});
