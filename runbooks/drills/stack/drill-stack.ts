import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { scrapeJobs } from '../../../catalog/metrics/scrape-jobs';
import { serviceIdentity } from '../../../catalog/service-identity';
import { eventually, GiveUp } from '../../../test-support/eventually';
import { tsNodeEnv } from '../../../test-support/ts-node-env';
import { acquireLocalServices, type LocalServices } from './local-services';
import { freePort, goTool, repoRoot, startProcess, type Started } from './processes';
import {
  standInChatModel,
  standInEmbedderModel,
  startModelEndpoints,
  type ModelEndpoints,
} from './model-endpoints';
import { drillAlertmanagerConfig, scaledRuleFile } from './time-scale';
import { startWebhookReceiver, type WebhookReceiver } from './webhook-receiver';
import { createDrillApiKey } from './drill-credential';

// The whole local alerting path a fire drill goes through: the datastores (scripts/test-services.sh),
// the service as its own process, the postgres and redis exporters, a real Prometheus loading the
// generated rules and scraping all of them, a real Alertmanager on the generated config with only
// its endpoints redirected, and the webhook receiver standing in for PagerDuty, Slack and the
// heartbeat, and an OpenAI-compatible model server standing in for the embedder and chat endpoint.
// Everything listens on loopback; everything is stopped by `stop()`.

export const generatedRuleFiles = () =>
  readdirSync(path.join(repoRoot, 'alerts/generated'))
    .filter((f) => f.endsWith('.rules.yaml'))
    .sort()
    .map((f) => `alerts/generated/${f}`);
export const shippedAlertmanagerConfig = 'alerts/generated/alertmanager.yaml';

/** The settings the drills run the service with (documented in scripts/drills/README.md). */
export const drillServiceSettings = {
  NODE_ENV: 'development',
  LOG_LEVEL: 'warn',
  SEED_DEMO_CORPUS: 'false',
  // Quick detection: the drills measure the alerting path, not the probe cadence.
  DEPENDENCY_CHECK_INTERVAL_MS: '500',
  DATABASE_REPLICA_CHECK_INTERVAL_MS: '500',
  // A failing job reaches the dead letters after one retry instead of five with backoff.
  QUEUE_RETRY_LIMIT: '1',
  QUEUE_RETRY_DELAY_SECONDS: '1',
  // The embedder and chat endpoint production configures, here the stand-in (model-endpoints.ts),
  // so their outages can be drilled; its vectors are the embedded model's, at its dimension.
  EMBEDDER_MODEL: standInEmbedderModel,
  EMBEDDER_DIMENSIONS: '384',
  CHAT_MODEL: standInChatModel,
} as const;

export interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

export interface AlertmanagerAlert {
  labels: Record<string, string>;
  receivers: { name: string }[];
  status: { state: string; inhibitedBy: string[]; silencedBy: string[] };
}

export interface DrillStack {
  readonly services: LocalServices;
  readonly timeScale: number;
  readonly serviceUrl: string;
  readonly prometheusUrl: string;
  readonly alertmanagerUrl: string;
  readonly receiver: WebhookReceiver;
  /** The stand-in embedder and chat endpoint the service calls (EMBEDDER_URL, CHAT_URL). */
  readonly models: ModelEndpoints;
  /** The service's fault file (FAULT_INJECTION_FILE). */
  readonly faultFile: string;
  readonly dir: string;
  query(expr: string): Promise<PromSample[]>;
  alertmanagerAlerts(): Promise<AlertmanagerAlert[]>;
  stop(): Promise<void>;
}

async function waitServing(what: string, proc: Started, url: string, timeoutMs = 60_000) {
  await eventually(
    async () => {
      if (proc.exited()) throw new GiveUp(`${what} exited:\n${proc.output().slice(-4000)}`);
      return (await fetch(url)).ok;
    },
    { timeoutMs, intervalMs: 100, what },
  ).catch((err: Error) => {
    throw new Error(`${err.message}\n--- ${what} output ---\n${proc.output().slice(-4000)}`);
  });
}

/** Slack channel → receiver name, from the shipped config's Slack configs. */
export function slackChannels(config: Record<string, unknown>): Map<string, string> {
  const map = new Map<string, string>();
  for (const r of config.receivers as { name: string; slack_configs?: { channel: string }[] }[]) {
    for (const s of r.slack_configs ?? []) map.set(s.channel, r.name);
  }
  return map;
}

export async function startDrillStack(options: { timeScale: number }): Promise<DrillStack> {
  const started: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of started.reverse()) await stop().catch(() => undefined);
  };
  try {
    const dir = mkdtempSync(path.join(tmpdir(), 'rag-drill-'));
    started.push(async () => rmSync(dir, { recursive: true, force: true }));
    const { services, release } = await acquireLocalServices();
    started.push(release);

    const shippedAm = readFileSync(path.join(repoRoot, shippedAlertmanagerConfig), 'utf8');
    const receiver = await startWebhookReceiver(
      slackChannels(parse(shippedAm) as Record<string, unknown>),
    );
    started.push(() => receiver.stop());
    const models = await startModelEndpoints(Number(drillServiceSettings.EMBEDDER_DIMENSIONS));
    started.push(() => models.stop());

    // Alertmanager: the shipped config, its secret files written with drill values.
    const secretsDir = path.join(dir, 'secrets');
    const amPort = await freePort();
    const smtpPort = await freePort(); // nothing listens: the email integration fails, logged
    const amConfig = drillAlertmanagerConfig(
      shippedAm,
      { secretsDir, receiverUrl: receiver.url, smtpSmarthost: `127.0.0.1:${smtpPort}` },
      options.timeScale,
    );
    mkdirSync(secretsDir);
    writeFileSync(path.join(secretsDir, 'slack-webhook-url'), `${receiver.url}/slack`);
    writeFileSync(path.join(secretsDir, 'pagerduty-routing-key'), 'drill-routing-key');
    writeFileSync(path.join(secretsDir, 'smtp-password'), 'drill');
    writeFileSync(path.join(dir, 'alertmanager.yml'), stringify(amConfig));
    const am = startProcess(goTool('alertmanager'), [
      `--config.file=${path.join(dir, 'alertmanager.yml')}`,
      `--storage.path=${path.join(dir, 'alertmanager')}`,
      `--web.listen-address=127.0.0.1:${amPort}`,
      '--cluster.listen-address=',
    ]);
    started.push(() => am.stop());
    const alertmanagerUrl = `http://127.0.0.1:${amPort}`;

    // The service, as its own process, with the drills' fault file.
    const faultFile = path.join(dir, 'faults.json');
    const appPort = await freePort();
    const app = startProcess(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', 'app/src/main.ts'],
      {
        env: {
          PATH: process.env.PATH ?? '',
          HOME: process.env.HOME ?? '/root',
          TS_NODE_TRANSPILE_ONLY: '1',
          ...tsNodeEnv(),
          ...drillServiceSettings,
          DATABASE_URL: services.databaseUrl,
          DATABASE_REPLICA_URLS: services.replicaUrl,
          ...(services.migrationUrl ? { MIGRATION_DATABASE_URL: services.migrationUrl } : {}),
          REDIS_URL: services.redisUrl,
          EMBEDDER_URL: models.urls.embedder,
          CHAT_URL: models.urls.chat,
          HOST: '127.0.0.1',
          PORT: String(appPort),
          FAULT_INJECTION_FILE: faultFile,
        },
      },
    );
    started.push(() => app.stop());
    const serviceUrl = `http://127.0.0.1:${appPort}`;

    // The exporters infra runs beside the datastores.
    const exporterTargets = new Map<string, string[]>();
    const exporter = async (
      job: string,
      command: string,
      args: (listen: string) => string[],
      env = {},
    ) => {
      const target = `127.0.0.1:${await freePort()}`;
      const proc = startProcess(command, args(target), {
        env: { PATH: process.env.PATH ?? '', ...env },
      });
      started.push(() => proc.stop());
      exporterTargets.set(job, [...(exporterTargets.get(job) ?? []), target]);
      return waitServing(command, proc, `http://${target}/metrics`);
    };
    const dsn = (url: string) => {
      const u = new URL(url);
      u.searchParams.set('sslmode', 'disable');
      return u.toString();
    };
    await Promise.all([
      ...[services.databaseUrl, services.replicaUrl].map((url) =>
        exporter(
          scrapeJobs.postgres,
          'prometheus-postgres-exporter',
          (l) => [`--web.listen-address=${l}`],
          {
            DATA_SOURCE_NAME: dsn(url),
          },
        ),
      ),
      exporter(scrapeJobs.redis, 'prometheus-redis-exporter', (l) => [
        '-redis.addr',
        services.redisUrl,
        '-web.listen-address',
        l,
      ]),
    ]);

    // Prometheus: the generated rules (scaled copies on a compressed clock) and every target.
    const ruleFiles = generatedRuleFiles().map((f) => {
      if (options.timeScale === 1) return path.join(repoRoot, f);
      const copy = path.join(dir, path.basename(f));
      writeFileSync(
        copy,
        scaledRuleFile(readFileSync(path.join(repoRoot, f), 'utf8'), options.timeScale),
      );
      return copy;
    });
    const promPort = await freePort();
    const prometheusConfig = {
      global: { scrape_interval: '1s', evaluation_interval: '1s' },
      rule_files: ruleFiles,
      alerting: { alertmanagers: [{ static_configs: [{ targets: [`127.0.0.1:${amPort}`] }] }] },
      scrape_configs: [
        [serviceIdentity.job, [`127.0.0.1:${appPort}`]] as const,
        ...exporterTargets,
      ].map(([job, targets]) => ({
        job_name: job,
        static_configs: [{ targets, labels: { namespace: serviceIdentity.namespace } }],
      })),
    };
    writeFileSync(path.join(dir, 'prometheus.yml'), stringify(prometheusConfig));
    const prom = startProcess('prometheus', [
      `--config.file=${path.join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(dir, 'prometheus')}`,
      `--web.listen-address=127.0.0.1:${promPort}`,
      '--log.level=warn',
    ]);
    started.push(() => prom.stop());
    const prometheusUrl = `http://127.0.0.1:${promPort}`;

    await Promise.all([
      waitServing('alertmanager', am, `${alertmanagerUrl}/-/ready`),
      waitServing('prometheus', prom, `${prometheusUrl}/-/ready`),
      waitServing('rag-api', app, `${serviceUrl}/readyz`, 120_000),
    ]);
    await createDrillApiKey({ DATABASE_URL: services.databaseUrl });

    const query = async (expr: string) => {
      const res = await fetch(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
      const body = (await res.json()) as {
        status: string;
        data: { result: PromSample[] };
        error?: string;
      };
      if (body.status !== 'success') throw new Error(`${expr}: ${body.error}`);
      return body.data.result;
    };
    // Every target up before a drill starts, so a fault is the only change it sees.
    await eventually(
      async () => {
        const up = await query('up');
        return (
          up.length === 1 + [...exporterTargets.values()].flat().length &&
          up.every((s) => s.value[1] === '1')
        );
      },
      { timeoutMs: 60_000, intervalMs: 250, what: 'every scrape target up' },
    );

    return {
      services,
      timeScale: options.timeScale,
      serviceUrl,
      prometheusUrl,
      alertmanagerUrl,
      receiver,
      models,
      faultFile,
      dir,
      query,
      async alertmanagerAlerts() {
        return (await (
          await fetch(`${alertmanagerUrl}/api/v2/alerts`)
        ).json()) as AlertmanagerAlert[];
      },
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
