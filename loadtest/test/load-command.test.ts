import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generatedThresholds, repoRoot, type K6SummaryExport } from './support/k6';

// `npm run load -- smoke`, the one command, for real: it brings up Postgres primary + replica,
// Redis, the built service and Prometheus, runs k6, writes the report and tears it all down. The
// report must hold every section, and its numbers must be k6's own (the --summary-export JSON
// k6 writes beside it) and agree with what Prometheus scraped from the service.

interface LoadRun {
  code: number | null;
  output: string;
}

function runLoad(args: string[], onOutput?: (output: string, stop: () => void) => void) {
  // In a process group of its own, so that `stop` is what ctrl-C in a terminal does: SIGINT to
  // every process of the foreground group (npm, the command, k6, …).
  const child = spawn('npm', ['run', '--silent', 'load', '--', ...args], {
    cwd: repoRoot,
    env: process.env,
    detached: true,
  });
  let output = '';
  const collect = (d: Buffer) => {
    output += d;
    onOutput?.(output, () => process.kill(-child.pid!, 'SIGINT'));
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  // The command's own exit code, from its last line: after ctrl-C npm exits at once, while the
  // command (still holding the output pipe until it ends) tears the stack down.
  return new Promise<LoadRun>((resolve) =>
    child.on('close', () => {
      const code = /stack torn down, exit (\d+)\s*$/.exec(output)?.[1];
      resolve({ code: code === undefined ? null : Number(code), output });
    }),
  );
}

/** The stack's URLs as the command logged them (one per service instance). */
function urls(output: string): { services: string[]; service?: string; prometheus?: string } {
  const services = [...output.matchAll(/service ready at (http:\S+)/g)].map((m) => m[1]);
  return {
    services,
    service: services[0],
    prometheus: /prometheus at (http:\S+)/.exec(output)?.[1],
  };
}

async function refused(url: string): Promise<boolean> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(5000) });
    return false;
  } catch {
    return true;
  }
}

interface ReportJson {
  verdict: string;
  slos: {
    key: string;
    expression: string;
    actual: number;
    samples: number;
    ok: boolean;
    exercised: boolean;
  }[];
  endpoints: {
    endpoint: string;
    requests: number;
    throughput: number;
    p50: number;
    p95: number;
    p99: number;
    errorRate: number;
  }[];
  cache: { queries: number; hits: number; hitRatio: number | null };
  steadySeconds: number;
  timeline: { bucketSeconds: number; buckets: { start: number; requests: number }[] };
  server: {
    queries: number;
    serverErrors: number;
    queryCacheHitRatio: number | null;
    instancesServingQueries: number;
  };
}

describe('npm run load -- smoke (the whole stack in one command)', function () {
  this.timeout(240_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'load-command-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('writes a complete SLA report whose numbers are k6 and Prometheus numbers, then tears down', async () => {
    const reportDir = path.join(dir, 'smoke');
    // Two instances, as a deployment runs them: k6 spreads its users, Prometheus scrapes both.
    const run = await runLoad([
      'smoke',
      'DURATION=6s',
      'RATE=3',
      'INSTANCES=2',
      `REPORT_DIR=${reportDir}`,
    ]);
    assert.equal(run.code, 0, run.output);
    assert.match(run.output, new RegExp(`report: ${path.join(reportDir, 'report.md')}`));

    const markdown = readFileSync(path.join(reportDir, 'report.md'), 'utf8');
    for (const section of [
      '# SLA report: smoke',
      '**Verdict: pass**',
      '## Settings',
      '## SLOs (steady state)',
      '## Endpoints (steady state)',
      '## Cache',
      '## Latency over time',
      '## Server view (Prometheus)',
    ]) {
      assert.ok(markdown.includes(section), `report.md lacks ${section}`);
    }
    assert.match(markdown, /```mermaid\nxychart-beta\n {2}title "POST \/v1\/query latency/);

    const report = JSON.parse(
      readFileSync(path.join(reportDir, 'report.json'), 'utf8'),
    ) as ReportJson;
    const exported = JSON.parse(
      readFileSync(path.join(reportDir, 'k6-summary-export.json'), 'utf8'),
    ) as K6SummaryExport;
    const metric = (key: string) => {
      const m = exported.metrics[key];
      assert.ok(m, `${key} missing from k6's summary export`);
      return m;
    };
    const close = (a: number, b: number) => Math.abs(a - b) <= 0.01;

    // Every generated SLO, judged on the steady window, on real samples, as k6 judged it.
    assert.deepEqual(
      report.slos.map((s) => s.expression).sort(),
      Object.values(generatedThresholds()).flat().sort(),
    );
    for (const slo of report.slos) {
      const k6 = metric(slo.key);
      assert.equal(slo.ok, k6.thresholds?.[slo.expression] === false, slo.key);
      assert.ok(slo.samples > 0, `${slo.key} judged no requests`);
      assert.ok(slo.exercised, `${slo.key} not exercised`);
      assert.ok(
        markdown.includes(`| \`${slo.key}\` | \`${slo.expression}\` |`) &&
          markdown.split('\n').some((l) => l.includes(slo.key) && l.endsWith('| pass |')),
        `${slo.key}: its row does not say pass`,
      );
    }

    // Per endpoint: counts, percentiles and error rates are those of k6's sub-metrics.
    for (const e of report.endpoints) {
      const [method, route] = e.endpoint.split(' ');
      const tags = `method:${method},route:${route},phase:steady`;
      assert.ok(e.requests > 0, `${e.endpoint}: no requests`);
      assert.equal(e.requests, metric(`http_reqs{${tags}}`).count, e.endpoint);
      assert.ok(close(e.throughput, e.requests / report.steadySeconds), e.endpoint);
      const duration = metric(`http_req_duration{${tags}}`);
      assert.ok(close(e.p50, duration.med), `${e.endpoint} p50`);
      assert.ok(close(e.p95, duration['p(95)']), `${e.endpoint} p95`);
      assert.ok(close(e.p99, duration['p(99)']), `${e.endpoint} p99`);
      assert.ok(close(e.errorRate, metric(`http_req_failed{${tags}}`).value), e.endpoint);
      // …and the Markdown table shows the same numbers.
      assert.ok(
        markdown.includes(`| ${e.endpoint} | ${e.requests} | ${e.throughput} | ${e.p50} |`),
        `${e.endpoint} row`,
      );
    }
    const query = report.endpoints.find((e) => e.endpoint === 'POST /v1/query')!;
    const cached = metric('rag_query_cached{phase:steady}');
    assert.equal(report.cache.queries, query.requests);
    assert.equal(report.cache.hits, cached.passes);

    // The time buckets hold every request of the run's iterations, no more.
    const bucketed = report.timeline.buckets.reduce((sum, b) => sum + b.requests, 0);
    const exportedBuckets = Object.entries(exported.metrics)
      .filter(([key]) => /^http_reqs\{bucket:\d+\}$/.test(key))
      .reduce((sum, [, m]) => sum + m.count, 0);
    assert.equal(bucketed, exportedBuckets);
    const steadyRequests = report.endpoints.reduce((sum, e) => sum + e.requests, 0);
    assert.equal(bucketed, steadyRequests, 'smoke is steady throughout');

    // Prometheus scraped the service: it counted the queries k6 sent (the smoke run's only
    // queries) and the answers it served from the cache, summed over both instances, each of
    // which answered some.
    assert.equal(report.server.queries, query.requests);
    assert.equal(report.server.instancesServingQueries, 2);
    assert.equal(report.server.serverErrors, 0);
    assert.ok(
      close(report.server.queryCacheHitRatio ?? 0, report.cache.hitRatio ?? 0),
      `server hit ratio ${report.server.queryCacheHitRatio}, k6 ${report.cache.hitRatio}`,
    );

    // Torn down: nothing answers where the service and Prometheus ran.
    const { services, prometheus } = urls(run.output);
    assert.equal(services.length, 2, run.output);
    assert.ok(prometheus, run.output);
    for (const service of services) {
      assert.ok(await refused(`${service}/healthz`), `the service at ${service} is still up`);
    }
    assert.ok(await refused(`${prometheus}/-/ready`), 'prometheus is still up');
  });

  it('tears the stack down when interrupted (ctrl-C) during the k6 run', async () => {
    const reportDir = path.join(dir, 'interrupted');
    let sent = false;
    const run = await runLoad(
      ['smoke', 'DURATION=5m', `REPORT_DIR=${reportDir}`],
      (output, stop) => {
        if (!sent && output.includes('k6: profile smoke')) {
          sent = true;
          stop();
        }
      },
    );
    assert.ok(sent, run.output);
    assert.equal(run.code, 130, run.output);
    const { service, prometheus } = urls(run.output);
    assert.ok(service && prometheus, run.output);
    assert.ok(await refused(`${service}/healthz`), 'the service is still up');
    assert.ok(await refused(`${prometheus}/-/ready`), 'prometheus is still up');
    const servicesDir = /scripts\/test-services.sh up, in (\S+)\)/.exec(run.output)?.[1];
    assert.ok(servicesDir, run.output);
    assert.ok(!existsSync(servicesDir), `${servicesDir} is left behind`);
  });

  it('refuses an unknown profile with its usage, before starting anything', async () => {
    const run = await runLoad(['nonsense']);
    assert.equal(run.code, 1);
    assert.match(
      run.output,
      /usage: npm run load -- <smoke\|average\|stress\|spike\|soak\|breakpoint\|users>/,
    );
    assert.doesNotMatch(run.output, /starting Postgres/);
  });
});
