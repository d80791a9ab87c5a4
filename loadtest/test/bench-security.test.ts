import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { repoRoot } from './support/k6';

// `npm run bench -- security` is a benchmark, not a test: this keeps it from rotting. Its tiny mode
// must time every side (no authentication, API key, JWT) in alternated rounds, each request
// admitted (a 401 or 429 would count as an error; the baseline sends no credential at all, so it
// passes only through startService's unauthenticatedPrincipal), and compare each side with the
// baseline.
describe('npm run bench -- security (BENCH_SCALE=small)', function () {
  this.timeout(180_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'bench-security-test-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('times the cached query on every side, alternated, and writes the comparison', async () => {
    const resultsPath = path.join(dir, 'security.json');
    const child = spawn(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', 'app/bench/run.ts', 'security'],
      {
        cwd: repoRoot,
        env: {
          ...process.env,
          BENCH_SCALE: 'small',
          // One second per open-model run (small: two): 200 requests a side and round are plenty
          // to show each one is admitted and timed, which is all this test asks of the numbers.
          BENCH_SECURITY_SECONDS: '1',
          BENCH_RESULTS_PATH: resultsPath,
        },
      },
    );
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const code = await new Promise((resolve) => child.on('exit', resolve));
    assert.equal(code, 0, output);

    const results = JSON.parse(readFileSync(resultsPath, 'utf8'));
    assert.equal(results.scale, 'small');
    assert.deepEqual(
      results.scenarios.map((s: { name: string }) => s.name),
      [
        ...['baseline #1', 'api key #1', 'jwt #1', 'jwt #2', 'api key #2', 'baseline #2'],
        ...['baseline max #1', 'api key max #1', 'jwt max #1'],
        ...['jwt max #2', 'api key max #2', 'baseline max #2'],
      ],
    );
    for (const s of results.scenarios) {
      assert.ok(s.requests > 0, `${s.name}: no requests`);
      assert.equal(s.errorRate, 0, `${s.name}: errors`);
      assert.ok(s.p50Ms > 0 && s.p50Ms <= s.p95Ms, `${s.name}: percentiles`);
    }
    assert.deepEqual(
      results.sides.map((s: { side: string }) => s.side),
      ['baseline', 'api key', 'jwt'],
    );
    for (const s of results.sides) {
      assert.ok(s.p50Ms > 0 && s.maxThroughputPerSecond > 0, `${s.side}: ${JSON.stringify(s)}`);
      assert.ok(Number.isFinite(s.addedP50Ms) && s.maxThroughputRatio > 0, s.side);
    }
    assert.equal(results.sides[0].addedP50Ms, 0);
    assert.match(output, /authentication \(api key\) \+ rate limiting add -?\d+\.\d{3} ms at p50/);
  });
});
