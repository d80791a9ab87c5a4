import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { ruleFiles } from '../../src/render/rule-files';
import { serviceIdentity } from '../../../catalog/service-identity';
import { freePort } from '../../../app/test/support/service-process';
import { repoRoot } from './run-tool';

// A real Prometheus (Debian's binary) on a free loopback port, scraping the given targets with
// the generated rule files loaded, and a small client for its HTTP API.

export interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

export interface RunningPrometheus {
  readonly url: string;
  query(expr: string): Promise<PromSample[]>;
  waitForTargetUp(timeoutMs: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startPrometheus(opts: {
  targets: string[];
  /** Further jobs (exporters), scraped with the same namespace label as the service. */
  extraJobs?: { job: string; targets: string[] }[];
  scrapeInterval: string;
  evaluationInterval: string;
}): Promise<RunningPrometheus> {
  const dir = mkdtempSync(path.join(tmpdir(), 'obs-prometheus-'));
  const port = await freePort();
  const config = {
    global: { scrape_interval: opts.scrapeInterval, evaluation_interval: opts.evaluationInterval },
    rule_files: ruleFiles().map((f) => path.join(repoRoot, f.path)),
    scrape_configs: [
      { job: serviceIdentity.job, targets: opts.targets },
      ...(opts.extraJobs ?? []),
    ].map(({ job, targets }) => ({
      job_name: job,
      static_configs: [{ targets, labels: { namespace: serviceIdentity.namespace } }],
    })),
  };
  writeFileSync(path.join(dir, 'prometheus.yml'), stringify(config));
  const url = `http://127.0.0.1:${port}`;
  let output = '';
  const child: ChildProcess = spawn(
    'prometheus',
    [
      `--config.file=${path.join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout?.on('data', (d) => (output += d));
  child.stderr?.on('data', (d) => (output += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  async function api<T>(p: string): Promise<T> {
    const res = await fetch(url + p);
    const body = (await res.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`${p}: ${body.error}`);
    return body.data;
  }

  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`prometheus exited: ${output}`);
    const ready = await fetch(`${url}/-/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) throw new Error(`prometheus not ready: ${output}`);
    await new Promise((r) => setTimeout(r, 200));
  }

  return {
    url,
    async query(expr) {
      const data = await api<{ result: PromSample[] }>(
        `/api/v1/query?query=${encodeURIComponent(expr)}`,
      );
      return data.result;
    },
    async waitForTargetUp(timeoutMs) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const data = await api<{ activeTargets: { health: string }[] }>('/api/v1/targets');
        if (data.activeTargets.length && data.activeTargets.every((t) => t.health === 'up')) return;
        if (Date.now() > end) throw new Error(`targets not up: ${JSON.stringify(data)}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    },
    async stop() {
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
