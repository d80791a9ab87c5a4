import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { ruleFiles } from '../../src/render/rule-files';
import { serviceIdentity } from '../../../catalog/service-identity';
import { freePort } from '../../../app/test/support/service-process';
import { eventually, GiveUp } from '../../../test-support/eventually';
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
  /**
   * Waits until Prometheus holds what the system did before `since`: every target scraped twice
   * after it (a rate over a series born just before needs two samples), then every rule group
   * evaluated after those scrapes.
   */
  waitForDataAfter(since: Date, timeoutMs: number): Promise<void>;
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

  await eventually(
    async () => {
      if (child.exitCode !== null) throw new GiveUp(`prometheus exited: ${output}`);
      return (await fetch(`${url}/-/ready`)).ok;
    },
    { timeoutMs: 20_000, intervalMs: 200, what: 'prometheus ready' },
  ).catch((err) => {
    throw new Error(`${(err as Error).message}\n${output}`);
  });

  type Target = { health: string; lastScrape: string; lastScrapeDuration: number };
  const targets = async () =>
    (await api<{ activeTargets: Target[] }>('/api/v1/targets')).activeTargets;
  /** Once every target's last scrape started after `after`: when the latest of them ended. */
  const scrapedAfter = (after: number, timeoutMs: number) =>
    eventually(
      async () => {
        const all = await targets();
        const starts = all.map((t) => Date.parse(t.lastScrape));
        if (!all.length || !starts.every((t) => t > after)) return undefined;
        return Math.max(...all.map((t, i) => starts[i] + Math.ceil(t.lastScrapeDuration * 1000)));
      },
      {
        timeoutMs,
        intervalMs: 200,
        what: `every target scraped after ${new Date(after).toISOString()}`,
      },
    );

  return {
    url,
    async query(expr) {
      const data = await api<{ result: PromSample[] }>(
        `/api/v1/query?query=${encodeURIComponent(expr)}`,
      );
      return data.result;
    },
    async waitForTargetUp(timeoutMs) {
      let last: Target[] = [];
      await eventually(
        async () => {
          last = await targets();
          return last.length > 0 && last.every((t) => t.health === 'up');
        },
        { timeoutMs, intervalMs: 250, what: 'every target up' },
      ).catch((err) => {
        throw new Error(`${(err as Error).message}: ${JSON.stringify(last)}`);
      });
    },
    async waitForDataAfter(since, timeoutMs) {
      const first = await scrapedAfter(since.getTime(), timeoutMs);
      const second = await scrapedAfter(first, timeoutMs);
      await eventually(
        async () => {
          const { groups } = await api<{ groups: { name: string; lastEvaluation: string }[] }>(
            '/api/v1/rules',
          );
          return groups.length > 0 && groups.every((g) => Date.parse(g.lastEvaluation) > second);
        },
        { timeoutMs, intervalMs: 200, what: 'every rule group evaluated after the scrapes' },
      );
    },
    async stop() {
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
