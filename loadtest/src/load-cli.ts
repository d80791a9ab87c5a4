import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { metrics } from '../../catalog/metrics/metric-catalog';
import { queryRoute } from '../../catalog/slo/slo-definitions';
import { k6Binary, repoRoot } from './k6-runner';
import {
  allStarted,
  buildApp,
  freePort,
  startApp,
  startBackingServices,
  startPrometheus,
  Teardown,
  type RunningPrometheus,
} from './local-stack';

// `npm run load -- <profile> [NAME=value …]`: one load test end to end. Without BASE_URL it brings
// up the whole stack locally (Postgres primary + replica, Redis, the built service, Prometheus
// scraping it), runs loadtest/k6/load.js with PROFILE=<profile> and the NAME=value settings,
// adds Prometheus' server-side view to the report, prints where the report is and tears it all
// down, also on failure or ctrl-C. With BASE_URL=… (and API_TOKEN in the environment) it only
// runs k6 against that target. Exit code: k6's (0 passed, 99 an SLO threshold failed); the
// searching profiles (breakpoint, users) break the SLOs on purpose and exit 0 with a report.

const profiles = ['smoke', 'average', 'stress', 'spike', 'soak', 'breakpoint', 'users'];
const searching = ['breakpoint', 'users'];

const startedAt = Date.now();
const log = (line: string) =>
  process.stderr.write(`load [${((Date.now() - startedAt) / 1000).toFixed(1)} s]: ${line}\n`);

interface Args {
  profile: string;
  settings: Record<string, string>;
}

export function parseArgs(argv: string[]): Args {
  const [profile, ...rest] = argv;
  if (!profile || !profiles.includes(profile)) {
    throw new Error(`usage: npm run load -- <${profiles.join('|')}> [NAME=value …]`);
  }
  const settings: Record<string, string> = {};
  for (const arg of rest) {
    const m = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(arg);
    if (!m) throw new Error(`not a NAME=value setting: ${arg}`);
    settings[m[1]] = m[2];
  }
  return { profile, settings };
}

function timestamp(): string {
  return new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
}

interface K6Process {
  done: Promise<number | null>;
  interrupt: () => void;
}

function runK6(env: Record<string, string>, reportDir: string): K6Process {
  const args = [
    'run',
    '--no-usage-report',
    '--summary-export',
    path.join(reportDir, 'k6-summary-export.json'),
  ];
  if (!process.stdout.isTTY) args.push('--quiet');
  // No REST API server: its fixed default port collides with any other k6 on the machine.
  args.push('--address', '');
  for (const [name, value] of Object.entries(env)) args.push('--env', `${name}=${value}`);
  // Its own process group: ctrl-C reaches the command only, which passes k6 one SIGINT (a second
  // one would make k6 abort without its teardown and summary).
  const child = spawn(k6Binary(), [...args, 'loadtest/k6/load.js'], {
    cwd: repoRoot,
    // Go collects k6's heap (about 0.7 MB per virtual user) when it doubles by default; letting it
    // grow fivefold first cut k6's CPU per request by about a tenth at 2,000 users, CPU the
    // service under test gets instead. GOGC in the environment still wins.
    env: { GOGC: '400', ...process.env },
    stdio: ['ignore', 'inherit', 'inherit'],
    detached: true,
  });
  return {
    done: new Promise((resolve) => child.on('exit', (code) => resolve(code))),
    // k6 stops the test on SIGINT and still runs teardown and handleSummary.
    interrupt: () => child.kill('SIGINT'),
  };
}

/**
 * What Prometheus scraped from the service over the run. The service was started for this run,
 * so its counters and histogram buckets hold exactly the run (setup and teardown included):
 * read as they are, no increase() extrapolation.
 */
async function serverView(prometheus: RunningPrometheus) {
  const one = async (expr: string) => {
    const [sample] = await prometheus.query(expr);
    return sample && Number.isFinite(sample.value) ? Number(sample.value.toFixed(4)) : null;
  };
  const query = `method="POST",route="${queryRoute}"`;
  const duration = metrics.httpRequestDuration.name;
  const cache = metrics.cacheRequests.name;
  const requests = metrics.httpRequests.name;
  const p = (q: number) =>
    one(`histogram_quantile(${q}, sum by (le) (${duration}_bucket{${query}})) * 1000`);
  return {
    prometheus: prometheus.url,
    queries: await one(`sum(${requests}{${query}})`),
    serverErrors: await one(`sum(${requests}{status_code=~"5.."}) or vector(0)`),
    queryP50Ms: await p(0.5),
    queryP99Ms: await p(0.99),
    queryCacheHitRatio: await one(
      `(sum(${cache}{cache="query",result="hit"}) or vector(0)) / sum(${cache}{cache="query"})`,
    ),
    instancesServingQueries: await one(
      `count(sum by (instance) (${requests}{${query}}) > 0) or vector(0)`,
    ),
  };
}

function appendServerView(reportDir: string, server: Awaited<ReturnType<typeof serverView>>) {
  const jsonPath = path.join(reportDir, 'report.json');
  const mdPath = path.join(reportDir, 'report.md');
  if (!existsSync(jsonPath) || !existsSync(mdPath)) return;
  const report = JSON.parse(readFileSync(jsonPath, 'utf8'));
  writeFileSync(jsonPath, JSON.stringify({ ...report, server }, null, 2));
  const cell = (v: number | null) => (v === null ? '–' : `${v}`);
  const lines = [
    '',
    '## Server view (Prometheus)',
    '',
    "What the service's own metrics say over the whole run (setup and teardown included: the " +
      `service was started for it), scraped by Prometheus at ${server.prometheus}. Latency ` +
      'quantiles are interpolated within histogram buckets: compare magnitudes, not decimals.',
    '',
    '| Measure | Value |',
    '| --- | --- |',
    `| POST /v1/query requests | ${cell(server.queries)} |`,
    `| 5xx responses (all routes) | ${cell(server.serverErrors)} |`,
    `| POST /v1/query p50 ms (server) | ${cell(server.queryP50Ms)} |`,
    `| POST /v1/query p99 ms (server) | ${cell(server.queryP99Ms)} |`,
    `| query cache hit ratio (server) | ${cell(server.queryCacheHitRatio)} |`,
    `| service instances that answered queries | ${cell(server.instancesServingQueries)} |`,
    '',
  ];
  writeFileSync(mdPath, readFileSync(mdPath, 'utf8') + lines.join('\n'));
}

async function main(): Promise<number> {
  const { profile, settings } = parseArgs(process.argv.slice(2));
  const reportDir = path.resolve(
    settings.REPORT_DIR ?? path.join(repoRoot, 'loadtest/reports', `${profile}-${timestamp()}`),
  );
  mkdirSync(reportDir, { recursive: true });
  const remote = settings.BASE_URL ?? process.env.BASE_URL;
  const teardown = new Teardown();
  let k6: K6Process | undefined;
  let interrupted = false;
  // The run stops at its next step (or k6 stops its test); `finally` tears the stack down.
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    log(`${signal}: stopping`);
    k6?.interrupt();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // A closed terminal or pipe must not crash the command before it has torn the stack down.
  process.stdout.on('error', () => undefined);
  process.stderr.on('error', () => undefined);

  try {
    let baseUrl = remote;
    let apiToken = process.env.API_TOKEN;
    let prometheus: RunningPrometheus | undefined;
    if (!baseUrl) {
      // Independent steps run side by side: a 2-core machine spends most of this waiting.
      const [services] = await allStarted([startBackingServices(teardown, log), buildApp(log)]);
      if (interrupted) return 130;
      // INSTANCES: replicas of the service side by side (production runs at least two behind a
      // Service); k6 spreads its virtual users over them and Prometheus scrapes each.
      const instances = Number(settings.INSTANCES ?? 1);
      if (!Number.isInteger(instances) || instances < 1) {
        throw new Error('INSTANCES must be a positive whole number');
      }
      const ports: number[] = [];
      while (ports.length < instances) {
        const port = await freePort();
        if (!ports.includes(port)) ports.push(port);
      }
      const urls = ports.map((port) => `http://127.0.0.1:${port}`);
      // The first instance migrates the database; the others start once it has.
      const startInstances = async () => {
        const first = await startApp(services, ports[0], teardown, log);
        const others = await Promise.all(
          ports.slice(1).map((port) => startApp(services, port, teardown, log)),
        );
        return [first, ...others];
      };
      const [apps, prom] = await allStarted([
        startInstances(),
        startPrometheus(urls, teardown, log),
      ]);
      if (interrupted) return 130;
      prometheus = prom;
      baseUrl = apps.map((app) => app.url).join(',');
      apiToken = apps[0].apiKey;
    }
    const env: Record<string, string> = {
      ...settings,
      PROFILE: profile,
      BASE_URL: baseUrl,
      REPORT_DIR: reportDir,
    };
    if (apiToken) env.API_TOKEN = apiToken;
    log(`k6: profile ${profile} against ${baseUrl}`);
    k6 = runK6(env, reportDir);
    const code = await k6.done;
    if (prometheus) {
      await prometheus.scrapedAfter(Date.now(), 30_000);
      appendServerView(reportDir, await serverView(prometheus));
    }
    const report = path.join(reportDir, 'report.md');
    if (!existsSync(report)) {
      log(`k6 exited ${code} without writing a report`);
      return interrupted ? 130 : code || 1;
    }
    log(`report: ${report}`);
    if (interrupted) return 130;
    return searching.includes(profile) && code === 99 ? 0 : (code ?? 1);
  } finally {
    await teardown.run(log);
  }
}

if (require.main === module) {
  main().then(
    (code) => {
      log(`stack torn down, exit ${code}`);
      process.exit(code);
    },
    (err) => {
      log((err as Error).message);
      log('stack torn down, exit 1');
      process.exit(1);
    },
  );
}
