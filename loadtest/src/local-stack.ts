import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { serviceIdentity } from '../../catalog/service-identity';
import { repoRoot } from './k6-runner';
import { freePort } from '../../test-support/free-port';

export { freePort };

// The whole stack of a local load run, each part a real process: Postgres primary + streaming
// replica and Redis (scripts/test-services.sh), the service built and run as `npm start` runs it,
// and Prometheus scraping it. Every part registers its own stop, so a failure half-way (or
// ctrl-C) tears down exactly what was started, in reverse order.

const run = promisify(execFile);

export type Log = (line: string) => void;

/** Polls `probe` until it returns true; fails with `what` after `timeoutMs`. */
export async function waitFor(
  probe: () => Promise<boolean>,
  what: string,
  timeoutMs: number,
  exited?: () => string | undefined,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const gone = exited?.();
    if (gone) throw new Error(`${what}: ${gone}`);
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Settles every start; throws the first failure once all are done (none left half-started). */
export async function allStarted<T extends unknown[]>(
  starts: [...{ [K in keyof T]: Promise<T[K]> }],
): Promise<T> {
  const settled = await Promise.allSettled(starts);
  const failed = settled.find((s) => s.status === 'rejected');
  if (failed) throw (failed as PromiseRejectedResult).reason;
  return settled.map((s) => (s as PromiseFulfilledResult<unknown>).value) as T;
}

/** Stops registered in start order, run in reverse; each runs once even if stop is called twice. */
export class Teardown {
  private readonly stops: { what: string; stop: () => Promise<unknown> }[] = [];
  private running: Promise<void> | undefined;

  add(what: string, stop: () => Promise<unknown>): void {
    this.stops.push({ what, stop });
  }

  run(log: Log): Promise<void> {
    this.running ??= (async () => {
      for (const { what, stop } of this.stops.reverse()) {
        try {
          await stop();
        } catch (err) {
          log(`teardown: ${what}: ${(err as Error).message}`);
        }
      }
    })();
    return this.running;
  }
}

interface Child {
  process: ChildProcess;
  output: () => string;
  exitReason: () => string | undefined;
  stop: (timeoutMs?: number) => Promise<void>;
}

export function startChild(command: string, args: string[], env: NodeJS.ProcessEnv): Child {
  let output = '';
  let exit: string | undefined;
  // A process group of its own: ctrl-C in the terminal reaches the command and k6 only, and the
  // stack stays up until k6 has finished its teardown against it; then the command stops it.
  const child = spawn(command, args, {
    cwd: repoRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  child.stdout?.on('data', (d) => (output = (output + d).slice(-20_000)));
  child.stderr?.on('data', (d) => (output = (output + d).slice(-20_000)));
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exit = `exited (${signal ?? code}): ${output.slice(-2000)}`;
      resolve();
    }),
  );
  return {
    process: child,
    output: () => output,
    exitReason: () => exit,
    async stop(timeoutMs = 15_000) {
      if (exit) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

export interface BackingServices {
  env: Record<string, string>;
}

/** Postgres primary + streaming replica and Redis in a private state directory. */
export async function startBackingServices(teardown: Teardown, log: Log): Promise<BackingServices> {
  const dir = mkdtempSync(path.join(tmpdir(), 'rag-load-services-'));
  const script = path.join(repoRoot, 'scripts/test-services.sh');
  const env = { ...process.env, TEST_SERVICES_DIR: dir };
  teardown.add('test services', () => run('bash', [script, 'down'], { env }));
  log(`starting Postgres primary + replica and Redis (scripts/test-services.sh up, in ${dir})…`);
  const { stdout } = await run('bash', [script, 'up'], { env, maxBuffer: 1 << 20 });
  const parsed = Object.fromEntries(
    stdout
      .split('\n')
      .filter((l) => /^[A-Z_]+=/.test(l))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  return { env: parsed };
}

export interface RunningApp {
  url: string;
  /** The service's process id (the bench reads its CPU time). */
  pid: number;
  /** A super admin API key for the load (k6 sends it as API_TOKEN). */
  apiKey: string;
}

/** Builds the service like `npm start` does (`npm run build`, incremental). */
export async function buildApp(log: Log): Promise<void> {
  log('building the service (npm run build)…');
  await run('npm', ['run', '--silent', 'build'], { cwd: repoRoot, maxBuffer: 1 << 22 });
}

const runPepper = randomBytes(32).toString('hex');

/** Runs the built service like `npm start` does, on `port`, against the backing services. */
export async function startApp(
  services: BackingServices,
  port: number,
  teardown: Teardown,
  log: Log,
  options: { exposeQueryDiagnostics?: boolean } = {},
): Promise<RunningApp> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'production',
    // Production hashes API keys with a pepper of its own; this run's is random and dies with it,
    // and every instance of the run shares it (a key is then valid on each, as in a deployment).
    API_KEY_PEPPER: runPepper,
    // The k6 report's cache-hit ratio reads `cached` from the answers, which production hides.
    EXPOSE_QUERY_DIAGNOSTICS: String(options.exposeQueryDiagnostics ?? true),
    LOG_LEVEL: 'warn',
    SEED_DEMO_CORPUS: 'false',
    // The limiter stays in the path (its Redis round trip is part of what a run measures), with
    // quotas no load profile reaches: every k6 virtual user is one principal from one address.
    RATE_LIMIT_TIERS: JSON.stringify({
      default: { rate: 1_000_000, burst: 1_000_000 },
      ip: { rate: 1_000_000, burst: 1_000_000 },
    }),
    ...services.env,
    HOST: '127.0.0.1',
    PORT: String(port),
  };
  // SERVICE_NODE_ARGS: extra node flags for the service only, e.g. `--cpu-prof --cpu-prof-dir=/tmp/p`
  // to profile it under load (Node refuses --cpu-prof in NODE_OPTIONS).
  const nodeArgs = (process.env.SERVICE_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const app = startChild(process.execPath, [...nodeArgs, 'dist/app/src/main.js'], env);
  teardown.add('service', () => app.stop());
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    async () => (await fetch(`${url}/readyz`)).status === 200,
    'service ready',
    60_000,
    app.exitReason,
  );
  log(`service ready at ${url}`);
  // Production never creates a credential by itself: the load's key comes from the CLI, as an
  // operator's first key does (README, Authentication).
  const { stdout } = await run(
    process.execPath,
    [
      'dist/app/src/cli/apikey.js',
      'create',
      '--principal',
      `load-${process.pid}-${port}`,
      '--create-principal',
      '--super-admin',
    ],
    { cwd: repoRoot, env },
  );
  return { url, pid: app.process.pid!, apiKey: stdout.trim() };
}

export interface RunningPrometheus {
  url: string;
  scrapeIntervalSeconds: number;
  /** Instant query; the samples' values as numbers. */
  query(expr: string): Promise<{ metric: Record<string, string>; value: number }[]>;
  /** Resolves once the service's target was scraped after `since` (ms since the epoch). */
  scrapedAfter(since: number, timeoutMs: number): Promise<void>;
}

/** Prometheus (Debian's binary) scraping the service's /metrics with the catalog's job name. */
export async function startPrometheus(
  appUrls: string | readonly string[],
  teardown: Teardown,
  log: Log,
): Promise<RunningPrometheus> {
  const hosts = (typeof appUrls === 'string' ? [appUrls] : appUrls).map((u) => new URL(u).host);
  const dir = mkdtempSync(path.join(tmpdir(), 'rag-load-prometheus-'));
  teardown.add('prometheus data', async () => rmSync(dir, { recursive: true, force: true }));
  const port = await freePort();
  const scrapeIntervalSeconds = 2;
  const config = {
    global: { scrape_interval: `${scrapeIntervalSeconds}s`, evaluation_interval: '5s' },
    scrape_configs: [
      {
        job_name: serviceIdentity.job,
        static_configs: [{ targets: hosts, labels: { namespace: serviceIdentity.namespace } }],
      },
    ],
  };
  // JSON is YAML: no YAML library needed for Prometheus' config.
  writeFileSync(path.join(dir, 'prometheus.yml'), JSON.stringify(config, null, 2));
  const prom = startChild(
    'prometheus',
    [
      `--config.file=${path.join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    process.env,
  );
  teardown.add('prometheus', () => prom.stop());
  const url = `http://127.0.0.1:${port}`;

  async function api<T>(p: string): Promise<T> {
    const res = await fetch(url + p);
    const body = (await res.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`prometheus ${p}: ${body.error}`);
    return body.data;
  }
  type Target = { health: string; lastScrape: string };
  const targets = async () =>
    (await api<{ activeTargets: Target[] }>('/api/v1/targets')).activeTargets;

  await waitFor(
    async () => (await fetch(`${url}/-/ready`)).ok,
    'prometheus ready',
    30_000,
    prom.exitReason,
  );
  // Started beside the service: the first scrapes may fail until it is up.
  await waitFor(
    async () => {
      const up = (await targets()).filter((t) => t.health === 'up');
      return up.length === hosts.length;
    },
    'prometheus scraping the service',
    120_000,
    prom.exitReason,
  );
  log(
    `prometheus at ${url} scraping the service (${hosts.length} instance${hosts.length > 1 ? 's' : ''}) every ${scrapeIntervalSeconds} s`,
  );
  return {
    url,
    scrapeIntervalSeconds,
    async query(expr) {
      const data = await api<{
        result: { metric: Record<string, string>; value: [number, string] }[];
      }>(`/api/v1/query?query=${encodeURIComponent(expr)}`);
      return data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
    },
    scrapedAfter: (since, timeoutMs) =>
      waitFor(
        async () => (await targets()).every((t) => Date.parse(t.lastScrape) > since),
        'a scrape after the run',
        timeoutMs,
        prom.exitReason,
      ),
  };
}
