import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { knownMetrics } from '../../catalog/promql/query-analysis';
// The one runbooks test that crosses into infra on purpose (see .dependency-cruiser.cjs): runbook
// commands name the objects and config keys the Pulumi program declares, and only its run under
// mocks and its schema know them.
import { parseStackConfig } from '../../infra/config/stack-config';
import {
  runStack,
  stackConfigMap,
  stacks,
  type StackName,
} from '../../infra/test/support/stack-under-mocks';
import type { Finding, InhibitRule, KubeObject, RepoFacts } from './support/command-checks';
import {
  checkCommand,
  checkInhibitionClaims,
  checkProcedureHasCommands,
  checkQuery,
  formatFinding,
} from './support/command-checks';
import { cliUsage } from './support/cli-usage';
import { logSchema } from './support/log-schema';
import { commandsIn, passagesIn, queriesIn, type RunbookText } from './support/runbook-commands';
import { shippedRules } from './support/shipped-rules';

const root = path.resolve(__dirname, '../..');
const project = 'rag-platform';

function runbooks(): RunbookText[] {
  return ['alerts', 'procedures'].flatMap((dir) =>
    readdirSync(path.join(root, 'runbooks', dir))
      .filter((f) => f.endsWith('.md'))
      .map((f) => ({
        file: `runbooks/${dir}/${f}`,
        text: readFileSync(path.join(root, 'runbooks', dir, f), 'utf8'),
      })),
  );
}

export function findingsIn(book: RunbookText, facts: RepoFacts): Finding[] {
  const commands = commandsIn(book);
  return [
    ...commands.flatMap((c) => checkCommand(c, facts)),
    ...passagesIn(book).flatMap((p) => checkInhibitionClaims(p, facts)),
    ...checkProcedureHasCommands(book.file, book.text, commands),
    ...queriesIn(book).flatMap((q) => checkQuery(q, facts)),
  ];
}

function pathSegments(key: string): string[] {
  return key.split('.').filter(Boolean);
}

function configWith(
  stack: StackName,
  key: string,
  value: unknown,
  usesPath: boolean,
): Record<string, string> {
  const map = { ...stackConfigMap(stack), ...receiverSecrets };
  if (!usesPath) return { ...map, [`${project}:${key}`]: String(value) };
  const [top, ...rest] = pathSegments(key);
  const current = map[`${project}:${top}`];
  const doc: Record<string, unknown> = current === undefined ? {} : JSON.parse(current);
  let node: Record<string, unknown> = doc;
  for (const segment of rest.slice(0, -1)) {
    node[segment] ??= {};
    node = node[segment] as Record<string, unknown>;
  }
  if (rest.length === 0) return { ...map, [`${project}:${top}`]: JSON.stringify(value) };
  node[rest[rest.length - 1]] = value;
  return { ...map, [`${project}:${top}`]: JSON.stringify(doc) };
}

let receiverSecrets: Record<string, string> = {};

function configHas(stack: StackName, key: string, usesPath: boolean): boolean {
  const map = stackConfigMap(stack);
  if (!usesPath) return `${project}:${key}` in map;
  const [top, ...rest] = pathSegments(key);
  const raw = map[`${project}:${top}`];
  if (raw === undefined) return false;
  let node: unknown = (() => {
    try {
      return JSON.parse(raw);
    } catch {
      return raw;
    }
  })();
  for (const segment of rest) {
    if (!node || typeof node !== 'object' || !(segment in node)) return false;
    node = (node as Record<string, unknown>)[segment];
  }
  return true;
}

function secretNames(value: unknown, into: Set<string>): Set<string> {
  if (Array.isArray(value)) value.forEach((v) => secretNames(v, into));
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === 'secretName' && typeof v === 'string') into.add(v);
      else secretNames(v, into);
    }
  }
  return into;
}

/** The routes the service defines, read from its route modules by path. */
function serviceRoutes(): string[] {
  const dir = path.join(root, 'app/src/http/routes');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.ts'))
    .flatMap((f) =>
      [...readFileSync(path.join(dir, f), 'utf8').matchAll(/path: '(\/[^']*)'/g)].map((m) => m[1]),
    );
}

async function repoFacts(): Promise<RepoFacts> {
  const runs = await Promise.all(stacks.map((s) => runStack(s)));
  receiverSecrets = {
    [`${project}:alertmanagerReceiverSecrets`]: JSON.stringify(
      Object.fromEntries(runs[0].artifacts.receiverSecretFiles.map((f) => [f, `value-of-${f}`])),
    ),
  };
  const resources = runs.flatMap((r) => r.resources);
  const objects: KubeObject[] = resources
    .filter((r) => r.type.startsWith('kubernetes:') && !r.type.includes('helm.sh'))
    .map((r) => ({
      kind: r.type.split(':')[2],
      namespace: r.inputs.metadata?.namespace,
      name: r.inputs.metadata?.name ?? r.name,
      scaleTarget: r.inputs.spec?.scaleTargetRef,
      workloadRef: r.inputs.spec?.workloadRef,
    }));
  const releases = resources
    .filter((r) => r.type === 'kubernetes:helm.sh/v3:Release')
    .map((r) => ({ name: r.inputs.name ?? r.name, namespace: r.inputs.namespace ?? 'default' }));
  const app = JSON.parse(stackConfigMap('production')[`${project}:app`]) as {
    settings?: Record<string, string>;
  };
  const alerts = new Map<string, Record<string, string>[]>();
  for (const rule of shippedRules(root)) {
    if (rule.alert) alerts.set(rule.alert, [...(alerts.get(rule.alert) ?? []), rule.labels ?? {}]);
  }
  const alertmanager = parse(
    readFileSync(path.join(root, 'alerts/generated/alertmanager.yaml'), 'utf8'),
  ) as { inhibit_rules?: InhibitRule[] };
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  };
  return {
    root,
    objects,
    releases,
    referencedSecrets: secretNames(
      resources.map((r) => r.inputs),
      new Set(),
    ),
    configSetError: (key, value, usesPath, only) => {
      for (const stack of stacks.filter((s) => !only || s === only)) {
        try {
          parseStackConfig(project, configWith(stack, key, value, usesPath));
        } catch (e) {
          return `${stack}: ${(e as Error).message.split('\n').slice(0, 3).join(' ')}`;
        }
      }
      return undefined;
    },
    configHas: (key, usesPath, only) =>
      stacks.some((s) => (!only || s === only) && configHas(s, key, usesPath)),
    npmScripts: new Set(Object.keys(pkg.scripts)),
    npmCliUsage: new Map([['apikey', cliUsage(path.join(root, 'app/src/cli/apikey.ts'))]]),
    logs: logSchema(path.join(root, 'app/src')),
    productionLogLevel: app.settings?.LOG_LEVEL ?? 'info',
    alerts,
    inhibitRules: alertmanager.inhibit_rules ?? [],
    metrics: knownMetrics(),
    recorded: new Set(shippedRules(root).flatMap((r) => (r.record ? [r.record] : []))),
    routes: serviceRoutes(),
  };
}

// The lines the review found wrong, as they stood: each must stay caught.
const oldLines: { name: string; file: string; text: string; caught: RegExp }[] = [
  {
    name: 'the Deployment a Rollout scales to zero',
    file: 'runbooks/alerts/IngestionBacklog.md',
    text: '```sh\nkubectl -n rag rollout status deploy/rag-api\n```',
    caught: /Deployment rag\/rag-api only holds the pod template of Rollout rag\/rag-api/,
  },
  {
    name: 'a spec change through the Argo Rollouts plugin',
    file: 'runbooks/procedures/abort-canary.md',
    text: '```sh\nkubectl argo rollouts undo rag-api -n rag\n```',
    caught: /kubectl argo rollouts undo changes Rollout rag\/rag-api, which Pulumi declares/,
  },
  {
    name: 'a StatefulSet the program does not declare',
    file: 'runbooks/alerts/RedisDown.md',
    text: '```sh\nkubectl -n rag logs statefulset/redis-master --since=10m | tail -50\n```',
    caught: /StatefulSet rag\/redis-master is not declared.*declared: .*redis/,
  },
  {
    name: 'a log field the logger does not write',
    file: 'runbooks/alerts/QueryAvailabilityBudgetBurn.md',
    text: '```sh\nkubectl -n rag logs deploy/rag-api --since=15m | grep -E \'"status":5[0-9][0-9]\' | tail -20\n```',
    caught: /log field status is written by no log call/,
  },
  {
    name: 'a config value of the wrong type',
    file: 'runbooks/alerts/IngestionBacklog.md',
    text: "Raise it (`pulumi config set --path 'app.settings.QUEUE_CONCURRENCY' 4`, then `pulumi up`).",
    caught: /QUEUE_CONCURRENCY stores 4, which the stack schema rejects/,
  },
  {
    name: 'a nested config key read without --path',
    file: 'runbooks/alerts/CertificateExpiringSoon.md',
    text: '```sh\naws acm describe-certificate --certificate-arn "$(pulumi config get app.tlsCertificateArn)"\n```',
    caught: /no stack config has this key \(a nested key needs --path\)/,
  },
  {
    name: 'a procedure that points at tooling instead of giving a command',
    file: 'runbooks/procedures/replay-dead-letters.md',
    text: '## Mitigation\n\nRe-queue them with the worker tooling the app provides.\n\n## Escalation\n\nTicket.\n',
    caught: /Mitigation section of a procedure gives no command/,
  },
  {
    name: 'amtool without an Alertmanager to talk to',
    file: 'runbooks/procedures/maintenance-window.md',
    text: 'End it early: `amtool silence expire <id>`.',
    caught: /amtool silence expire without --alertmanager.url/,
  },
  {
    name: 'an inhibition the Alertmanager config does not have',
    file: 'runbooks/alerts/QueryLatencyBudgetBurn.md',
    text: '- If a dependency alert fires too (PostgresPrimaryDown, VectorStoreDown, RedisDown), follow its\n  runbook: this alert is inhibited while it fires and will clear with it.\n',
    caught: /claims PostgresPrimaryDown inhibits QueryLatencyBudgetBurn/,
  },
  {
    name: 'scaling a workload the HPA scales',
    file: 'runbooks/alerts/QueryLatencyBudgetBurn.md',
    text: 'or scale now: `kubectl -n rag scale rollout/rag-api --replicas=<n>`.',
    caught:
      /kubectl scale on Rollout rag\/rag-api: HorizontalPodAutoscaler \S+ sets the replicas back/,
  },
  {
    name: 'a rollback that fights Pulumi',
    file: 'runbooks/alerts/PodCrashLooping.md',
    text: '- Bad release: `kubectl -n rag rollout undo deploy/rag-api`.',
    caught: /kubectl rollout undo changes Deployment rag\/rag-api, which Pulumi declares/,
  },
  {
    name: 'latency read from request logs production drops',
    file: 'runbooks/alerts/QueryLatencyBudgetBurn.md',
    text: '```sh\nkubectl -n rag logs deploy/rag-api --since=15m | grep \'"durationMs":[0-9]\\{4\\}\'\n```',
    caught:
      /latency from logs: "request" lines carry durationMs but are logged at http, below production's LOG_LEVEL info/,
  },
  {
    name: 'a log message nothing writes',
    file: 'runbooks/alerts/IngestionDeadLetters.md',
    text: '```sh\nkubectl -n rag logs deploy/rag-api --since=1h | grep \'"message":"job dead-lettered\' | tail -20\n```',
    caught: /no log line's message starts with "job dead-lettered"/,
  },
  {
    name: 'an API key listing without its required --principal',
    file: 'runbooks/procedures/credential-leak.md',
    text: '```sh\nnpm run apikey -- list\n```',
    caught: /npm run apikey -- list needs --principal/,
  },
  {
    name: 'an API key flag the CLI does not have',
    file: 'runbooks/procedures/secret-rotation.md',
    text: '```sh\nnpm run apikey -- create --principal ops --scope read\n```',
    caught: /npm run apikey -- create has no flag --scope/,
  },
  {
    name: 'an npm script package.json does not have',
    file: 'runbooks/alerts/PostgresPrimaryDown.md',
    text: 'run pending migrations: `npm run db:migrate`.',
    caught: /npm script db:migrate is not in package.json/,
  },
  {
    name: 'a metric label the catalog does not define',
    file: 'runbooks/alerts/QueryAvailabilityBudgetBurn.md',
    text: '```promql\nsum by (route) (rate(rag_http_requests_total{status=~"5.."}[5m]))\n```',
    caught: /rag_http_requests_total has no label status \(/,
  },
  {
    name: 'a silence that matches no alert',
    file: 'runbooks/procedures/maintenance-window.md',
    text: '```sh\namtool --alertmanager.url=http://localhost:9093 silence add alertname=PostgresPrimaryDown service=rag --duration=2h\n```',
    caught: /amtool silence matchers alertname=PostgresPrimaryDown service=rag match no alert/,
  },
  {
    name: 'a route the service does not have',
    file: 'runbooks/procedures/replay-dead-letters.md',
    text: "```sh\ncurl -s -X POST 'http://localhost:8080/v1/documents/<documentId>/replay'\n```",
    caught: /curl \/v1\/documents\/documentId\/replay: the service has no such route/,
  },
];

// Right lines of the shapes procedures use, which the checker must not reject.
const rightLines = [
  '```sh\nkubectl argo rollouts get rollout rag-api -n rag\nkubectl -n rag get analysisrun\n```',
  '`kubectl -n rag patch rollout rag-api --subresource=status --type=merge -p \'{"status":{"abort":true}}\'`',
  '```sh\nkubectl -n vault cp vault-0:/tmp/vault.snap ./vault-$(date +%F).snap\n```',
  '```sh\nkubectl -n vault get pods,pvc\nkubectl get nodeclaims\n```',
  'Never `kubectl scale`: the HPA undoes it; never `kubectl rollout undo` either.',
  '`pulumi config set --path app.minReplicas 4 --stack production`',
  '`pulumi config set --secret --path alertmanagerReceiverSecrets.pagerduty-routing-key <key>`',
  '`pulumi config set --path app.image "$(kubectl -n rag get deploy rag-api -o jsonpath=\'{..image}\')"`',
  '```sh\nkubectl -n rag get pvc rag-pg-2\n```',
];

describe('runbook commands against the repository', function () {
  // Runs the three stacks under mocks (shared with other infra tests in the same process).
  this.timeout(120_000);
  let facts: RepoFacts;

  before(async () => {
    facts = await repoFacts();
  });

  it('every command, log grep, config key and inhibition claim in runbooks/ holds', () => {
    const findings = runbooks().flatMap((b) => findingsIn(b, facts));
    assert.deepEqual(findings.map(formatFinding), []);
  });

  it('accepts the right shapes of kubectl cp, kind lists, prose mentions, --stack and records', () => {
    const findings = rightLines.flatMap((text) =>
      findingsIn({ file: 'runbooks/procedures/x.md', text }, facts).map(formatFinding),
    );
    assert.deepEqual(findings, []);
  });

  for (const old of oldLines) {
    it(`catches ${old.name}, with its file and line`, () => {
      const findings = findingsIn({ file: old.file, text: old.text }, facts).map(formatFinding);
      assert.ok(
        findings.some((f) => f.startsWith(`${old.file}:`) && old.caught.test(f)),
        `not caught: ${old.text}\nfindings: ${findings.join('\n') || '(none)'}`,
      );
    });
  }
});
