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

type Threshold = string | { threshold: string; abortOnFail?: boolean };

function inspectedThresholds(
  script: string,
  env: Record<string, string> = {},
): Record<string, Threshold[]> | null {
  // bench.js refuses to load without a target; its options do not depend on which one.
  const args = ['inspect', '--env', 'BENCH_TARGET=hello'];
  for (const [name, value] of Object.entries(env)) args.push('--env', `${name}=${value}`);
  const out = execFileSync(k6Binary(), [...args, script], { cwd: repoRoot, encoding: 'utf8' });
  return JSON.parse(out).thresholds;
}

const expressionOf = (t: Threshold) => (typeof t === 'string' ? t : t.threshold);

/** `metric{a:1,b:2}` as its metric name and tag set. */
function parseKey(key: string): { metric: string; tags: Record<string, string> } {
  const m = /^([\w.]+)(?:\{(.*)\})?$/.exec(key);
  assert.ok(m, key);
  const tags = Object.fromEntries(
    (m[2] ?? '')
      .split(',')
      .filter(Boolean)
      .map((pair) => [pair.slice(0, pair.indexOf(':')), pair.slice(pair.indexOf(':') + 1)]),
  );
  return { metric: m[1], tags };
}

// load.js also declares always-true thresholds on sub-metrics it reports (k6 summarises a tagged
// sub-metric only when a threshold names it); they are these and nothing else.
const bookkeeping: Record<string, string> = {
  http_req_duration: 'max>=0',
  http_reqs: 'count>=0',
  http_req_failed: 'rate>=0',
  rag_query_cached: 'rate>=0',
};

/** The generated SLO threshold whose selection `key` narrows to the steady windows, if any. */
function steadySlo(key: string): [string, string[]] | undefined {
  const { metric, tags } = parseKey(key);
  if (tags.phase !== 'steady' || tags.step || tags.bucket) return undefined;
  return Object.entries(generatedThresholds()).find(([generated]) => {
    const g = parseKey(generated);
    const selection = { ...tags };
    delete selection.phase;
    return g.metric === metric && JSON.stringify(g.tags) === JSON.stringify(selection);
  });
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

  const loadProfiles = ['smoke', 'average', 'stress', 'spike', 'soak', 'breakpoint', 'users'];
  for (const profile of loadProfiles) {
    it(`load.js (${profile}) judges exactly the generated SLOs, on the steady windows only`, () => {
      const thresholds = inspectedThresholds(path.join(k6Dir, 'load.js'), { PROFILE: profile });
      assert.ok(thresholds);
      const slos = Object.fromEntries(
        Object.entries(thresholds).filter(([key]) => steadySlo(key) !== undefined),
      );
      // Every generated SLO, each on its requests tagged phase:steady, with its own expressions.
      assert.deepEqual(
        Object.fromEntries(
          Object.entries(slos).map(([key, list]) => [steadySlo(key)![0], list.map(expressionOf)]),
        ),
        generatedThresholds(),
      );
      assert.deepEqual(thresholds['checks{phase:steady}'], ['rate>0.99']);
      // The searches stop once the latency objective broke; the SLA profiles never abort.
      const aborting = Object.values(slos)
        .flat()
        .filter((t) => typeof t !== 'string' && t.abortOnFail);
      assert.equal(aborting.length > 0, ['breakpoint', 'users'].includes(profile));
      for (const [key, list] of Object.entries(thresholds)) {
        if (key in slos || key === 'checks{phase:steady}') continue;
        const { metric } = parseKey(key);
        assert.deepEqual(list, [bookkeeping[metric]], `${profile}: ${key} is not bookkeeping`);
      }
    });
  }

  it('no other top-level script declares thresholds of its own', () => {
    for (const file of readdirSync(k6Dir).filter((f) => f.endsWith('.js') && f !== 'load.js')) {
      const thresholds = inspectedThresholds(path.join(k6Dir, file));
      if (thresholds === null) continue;
      for (const [metric, expressions] of Object.entries(thresholds)) {
        const expected = metric === 'checks' ? ['rate>0.99'] : generatedThresholds()[metric];
        assert.ok(
          expressions.every((e) => typeof e === 'string'),
          `${file}: ${metric}`,
        );
        assert.deepEqual(expressions, expected, `${file}: ${metric}`);
      }
    }
  });

  it('no script writes an SLO-shaped number (percentile or rate bound) by hand', () => {
    const sloShaped = /p\(\s*[\d.]+\s*\)\s*[<>]=?\s*\d|rate\s*[<>]=?\s*[\d.]+/g;
    for (const file of scripts(k6Dir)) {
      const source = readFileSync(file, 'utf8');
      const found = (source.match(sloShaped) ?? []).filter(
        // The checks pass rate is the scripts' own correctness bar, not an SLO; `rate>=0` is the
        // always-true bookkeeping threshold of a rate sub-metric.
        (m) => !((m === 'rate>0.99' || m === 'rate>=0') && file.endsWith('slo-thresholds.js')),
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
