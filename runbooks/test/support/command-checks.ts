import { existsSync } from 'node:fs';
import path from 'node:path';
import { analyzeQuery, type KnownMetric } from '../../../catalog/promql/query-analysis';
import { cliProblems, type CliUsage } from './cli-usage';
import type { LogLine, LogSchema } from './log-schema';
import { winstonLevels } from './log-schema';
import type { Command, Passage } from './runbook-commands';
import { simpleCommands, substitutions } from './runbook-commands';

// Checks each runbook command against what the repository declares. Every finding names the file
// and line, so a new procedure that names a missing object fails with the line to fix.

export interface KubeObject {
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
  /** For a HorizontalPodAutoscaler: the kind/name it scales. */
  readonly scaleTarget?: { kind: string; name: string };
  /** For an Argo Rollout running another workload's pod template: that workload. */
  readonly workloadRef?: { kind: string; name: string };
}

export interface HelmRelease {
  readonly name: string;
  readonly namespace: string;
}

export interface InhibitRule {
  readonly source_matchers?: string[];
  readonly target_matchers?: string[];
  readonly equal?: string[];
}

export interface RepoFacts {
  readonly root: string;
  /** Objects the Pulumi program declares, over every stack. */
  readonly objects: readonly KubeObject[];
  /** Helm releases the program installs: their charts render objects Pulumi never sees. */
  readonly releases: readonly HelmRelease[];
  /** Secrets the program references by name (TLS secrets made by hand or by cert-manager). */
  readonly referencedSecrets: ReadonlySet<string>;
  /** Applies `pulumi config set` to every stack's config: the schema's complaint, if any. */
  readonly configSetError: (
    key: string,
    value: unknown,
    usesPath: boolean,
    stack?: string,
  ) => string | undefined;
  /** Whether `pulumi config get` finds the key in the stack's (or any) committed config. */
  readonly configHas: (key: string, usesPath: boolean, stack?: string) => boolean;
  readonly npmScripts: ReadonlySet<string>;
  /** Usage of the CLIs npm scripts run (script name -> commands and flags). */
  readonly npmCliUsage: ReadonlyMap<string, CliUsage>;
  readonly logs: LogSchema;
  /** The log level production runs at (its app.settings.LOG_LEVEL). */
  readonly productionLogLevel: string;
  /** Alert name to the label sets its rules carry. */
  readonly alerts: ReadonlyMap<string, readonly Record<string, string>[]>;
  readonly inhibitRules: readonly InhibitRule[];
  /** Metrics the catalog, prom-client and the exporters expose, with their labels. */
  readonly metrics: ReadonlyMap<string, KnownMetric>;
  /** Series the shipped recording rules produce. */
  readonly recorded: ReadonlySet<string>;
  /** The service's HTTP routes, as Express paths (`/v1/collections/:collectionId`). */
  readonly routes: readonly string[];
}

export interface Finding {
  readonly file: string;
  readonly line: number;
  readonly message: string;
}

export function formatFinding(f: Finding): string {
  return `${f.file}:${f.line}: ${f.message}`;
}

const kinds: Record<string, string> = {
  deploy: 'Deployment',
  deployment: 'Deployment',
  svc: 'Service',
  service: 'Service',
  sts: 'StatefulSet',
  statefulset: 'StatefulSet',
  hpa: 'HorizontalPodAutoscaler',
  horizontalpodautoscaler: 'HorizontalPodAutoscaler',
  secret: 'Secret',
  pod: 'Pod',
  po: 'Pod',
  servicemonitor: 'ServiceMonitor',
  prometheusrule: 'PrometheusRule',
  cluster: 'Cluster',
  cm: 'ConfigMap',
  configmap: 'ConfigMap',
  job: 'Job',
  cronjob: 'CronJob',
  ingress: 'Ingress',
  pvc: 'PersistentVolumeClaim',
  persistentvolumeclaim: 'PersistentVolumeClaim',
  sa: 'ServiceAccount',
  serviceaccount: 'ServiceAccount',
  ns: 'Namespace',
  namespace: 'Namespace',
  ro: 'Rollout',
  rollout: 'Rollout',
  analysisrun: 'AnalysisRun',
  rs: 'ReplicaSet',
  replicaset: 'ReplicaSet',
};

// Namespaced objects controllers make at runtime (Argo Rollouts' analysis runs, the ReplicaSets
// of a Deployment or Rollout): listed by kind, their generated names are placeholders.
const runtimeNamespacedKinds = ['Pod', 'PersistentVolumeClaim', 'AnalysisRun', 'ReplicaSet'];

/** `deploy`, `pods`, `clusters.postgresql.cnpg.io`, `nodepool`: aliases, then the declared kinds. */
function kindOf(word: string, facts: RepoFacts): string | undefined {
  const w = word.toLowerCase().split('.')[0];
  const singular = w.replace(/(?<!s)s$/, '');
  return (
    kinds[w] ??
    kinds[singular] ??
    facts.objects.find((o) => o.kind.toLowerCase() === singular)?.kind ??
    runtimeClusterKinds[singular]
  );
}

// Cluster-scoped objects the cluster makes at runtime, which no program declares.
const runtimeClusterKinds: Record<string, string> = {
  node: 'Node',
  nodeclaim: 'NodeClaim',
  pv: 'PersistentVolume',
  persistentvolume: 'PersistentVolume',
};

const placeholder = /^<|>$|\.\.\.|SUBSTITUTED/;
// Flags whose value is the next word (the rest are switches or --flag=value).
const valuedFlags = new Set([
  '-n',
  '--namespace',
  '-l',
  '--selector',
  '-o',
  '-c',
  '-f',
  '--context',
]);

function kubectlArgs(words: string[]): { namespace?: string; positional: string[] } {
  let namespace: string | undefined;
  const positional: string[] = [];
  for (let i = 1; i < words.length; i++) {
    const w = words[i];
    if (w === '--') break;
    if (w === '-n' || w === '--namespace') namespace = words[++i];
    else if (w.startsWith('--namespace=')) namespace = w.slice('--namespace='.length);
    else if (valuedFlags.has(w)) i++;
    else if (!w.startsWith('-')) positional.push(w);
  }
  return { namespace, positional };
}

function chartRendered(facts: RepoFacts, namespace: string, name: string): HelmRelease | undefined {
  // Charts name objects after the release (`<release>-<component>`); operators they install
  // prefix what they create (`alertmanager-<release>-alertmanager-0`).
  return facts.releases.find(
    (r) =>
      r.namespace === namespace &&
      (name === r.name || name.startsWith(`${r.name}-`) || name.includes(`-${r.name}-`)),
  );
}

function checkKubectl(words: string[], facts: RepoFacts): string[] {
  const { namespace, positional } = kubectlArgs(words);
  const [verb, ...rest] = positional;
  const skipped = [
    'cnpg',
    'apply',
    'create',
    'run',
    'version',
    'config',
    'top',
    'drain',
    'cordon',
    'uncordon',
  ];
  if (!verb || skipped.includes(verb)) return [];
  // Only the status subresource: what `kubectl argo rollouts abort` writes, never the spec.
  const statusOnly = words.includes('--subresource=status');
  let targets: string[];
  if (verb === 'argo' && rest[0] === 'rollouts') {
    // The Argo Rollouts plugin: `kubectl argo rollouts <command> [rollout] <name>`.
    const sub = rest[1];
    const name = sub === 'get' || sub === 'list' ? rest[3] : rest[2];
    if (sub === 'list' || !name) return [];
    return checkKubectlTarget(
      `argo-${sub}`,
      rest.slice(1),
      namespace,
      `rollout/${name}`,
      facts,
      false,
    );
  } else if (verb === 'cp') {
    // `kubectl cp <pod>:<path> <local>` (either direction): the pod is the side with a colon.
    const remote = rest.find((w) => /^[\w.-]+:/.test(w));
    targets = remote ? [`pod/${remote.split(':')[0]}`] : [];
  } else if (verb === 'rollout') targets = rest[1] ? [rest[1]] : [];
  else if (['logs', 'exec', 'port-forward'].includes(verb)) {
    targets = rest[0] ? [rest[0].includes('/') ? rest[0] : `pod/${rest[0]}`] : [];
  } else if (rest[0]?.includes('/')) targets = [rest[0]];
  else if (rest[0]) targets = rest[0].split(',').map((k) => (rest[1] ? `${k}/${rest[1]}` : k));
  else targets = [];
  return targets.flatMap((t) => checkKubectlTarget(verb, rest, namespace, t, facts, statusOnly));
}

function checkKubectlTarget(
  verb: string,
  rest: string[],
  namespace: string | undefined,
  target: string,
  facts: RepoFacts,
  statusOnly: boolean,
): string[] {
  const [kindWord, name] = target.split('/');
  if (placeholder.test(kindWord)) return [];
  const kind = kindOf(kindWord, facts);
  if (!kind) return [`${kindWord} is no Kubernetes kind the program declares or the cluster has`];
  const declaredOfKind = facts.objects.filter((o) => o.kind === kind);
  const clusterScoped =
    Object.values(runtimeClusterKinds).includes(kind) ||
    ['Namespace', 'NodePool', 'EC2NodeClass', 'StorageClass', 'ClusterRole'].includes(kind) ||
    (declaredOfKind.length > 0 && declaredOfKind.every((o) => o.namespace === undefined));
  if (clusterScoped) {
    if (!name || placeholder.test(name) || Object.values(runtimeClusterKinds).includes(kind))
      return [];
    return declaredOfKind.some((o) => o.name === name)
      ? []
      : [
          `${kind} ${name} is not declared by the program (declared: ${declaredOfKind.map((o) => o.name).join(', ') || 'none'})`,
        ];
  }
  const ns = namespace ?? 'default';
  if (placeholder.test(ns)) return [];
  const deploysInto = (o: KubeObject) =>
    o.namespace === ns || (o.kind === 'Namespace' && o.name === ns);
  if (!facts.objects.some(deploysInto) && !facts.releases.some((r) => r.namespace === ns)) {
    return [`namespace ${ns} is not one the program deploys into`];
  }
  const problems: string[] = [];
  if (name === undefined || placeholder.test(name)) {
    if (
      !runtimeNamespacedKinds.includes(kind) &&
      !facts.objects.some((o) => o.kind === kind && o.namespace === ns) &&
      !facts.releases.some((r) => r.namespace === ns)
    ) {
      problems.push(`the program declares no ${kind} in namespace ${ns}`);
    }
    return problems;
  }
  const declared = facts.objects.find(
    (o) => o.kind === kind && o.namespace === ns && o.name === name,
  );
  // Pods and volume claims of a declared StatefulSet or CloudNativePG Cluster: `<owner>-<n>`,
  // claims `<template>-<owner>-<n>`.
  const owner =
    kind === 'Pod' || kind === 'PersistentVolumeClaim'
      ? facts.objects.find(
          (o) =>
            o.namespace === ns &&
            ['StatefulSet', 'Cluster'].includes(o.kind) &&
            (name.replace(/-\d+$/, '') === o.name ||
              name.replace(/-\d+$/, '').endsWith(`-${o.name}`)),
        )
      : undefined;
  const secret = kind === 'Secret' && facts.referencedSecrets.has(name);
  const runtime = ['AnalysisRun', 'ReplicaSet'].includes(kind);
  if (!declared && !owner && !secret && !runtime && !chartRendered(facts, ns, name)) {
    const same = facts.objects
      .filter((o) => o.kind === kind && o.namespace === ns)
      .map((o) => o.name);
    problems.push(
      `${kind} ${ns}/${name} is not declared by the program nor rendered by a chart it installs` +
        (same.length ? ` (declared: ${same.join(', ')})` : ''),
    );
  }
  if (declared && verb === 'scale') {
    const hpa = facts.objects.find(
      (o) =>
        o.kind === 'HorizontalPodAutoscaler' &&
        o.namespace === ns &&
        o.scaleTarget?.kind === kind &&
        o.scaleTarget.name === name,
    );
    problems.push(
      hpa
        ? `kubectl scale on ${kind} ${ns}/${name}: HorizontalPodAutoscaler ${hpa.name} sets the replicas back; change its bounds in the stack config`
        : `kubectl scale on ${kind} ${ns}/${name}, which Pulumi declares: the next pulumi up reverts it`,
    );
  } else if (
    declared &&
    !statusOnly &&
    (['edit', 'patch', 'set', 'label', 'annotate', 'argo-undo', 'argo-set'].includes(verb) ||
      (verb === 'rollout' && rest[0] === 'undo'))
  ) {
    const what =
      verb === 'rollout'
        ? 'rollout undo'
        : verb.startsWith('argo-')
          ? `argo rollouts ${verb.slice(5)}`
          : verb;
    problems.push(
      `kubectl ${what} changes ${kind} ${ns}/${name}, which Pulumi declares: ` +
        'the next pulumi up puts the declared spec back (change the stack config and pulumi up instead)',
    );
  }
  // A Deployment that only holds a Rollout's pod template runs no pods once the Rollout is up.
  const rollout =
    declared && kind === 'Deployment'
      ? facts.objects.find(
          (o) =>
            o.kind === 'Rollout' &&
            o.namespace === ns &&
            o.workloadRef?.kind === 'Deployment' &&
            o.workloadRef.name === name,
        )
      : undefined;
  if (rollout && ['logs', 'exec', 'port-forward', 'rollout', 'scale'].includes(verb)) {
    problems.push(
      `Deployment ${ns}/${name} only holds the pod template of Rollout ${ns}/${rollout.name}, ` +
        'which scales it to zero: select its pods by label (-l app.kubernetes.io/component=api) ' +
        `or use kubectl argo rollouts on ${rollout.name}`,
    );
  }
  return problems;
}

/** The value `pulumi config set` stores, as its documentation states for `--path` and `--type`. */
export function pulumiConfigValue(raw: string, usesPath: boolean, type?: string): unknown {
  if (type === 'bool') return raw === 'true';
  if (type === 'int' || type === 'float') return Number(raw);
  if (type === 'string' || !usesPath) return raw;
  if (raw === 'true' || raw === 'false') return raw === 'true';
  if (/^-?\d+$/.test(raw)) return Number(raw);
  return raw;
}

function checkPulumi(words: string[], facts: RepoFacts): string[] {
  if (words[1] !== 'config' || !['set', 'get'].includes(words[2])) return [];
  const usesPath = words.includes('--path');
  let type: string | undefined;
  let stack: string | undefined;
  const positional: string[] = [];
  for (let i = 3; i < words.length; i++) {
    if (words[i] === '--type') type = words[++i];
    else if (words[i].startsWith('--type=')) type = words[i].slice('--type='.length);
    else if (words[i] === '--stack' || words[i] === '-s') stack = words[++i];
    else if (words[i].startsWith('--stack=')) stack = words[i].slice('--stack='.length);
    else if (words[i] === '--') continue;
    else if (!words[i].startsWith('-')) positional.push(words[i]);
  }
  if (stack !== undefined && placeholder.test(stack)) stack = undefined;
  const [key, raw] = positional;
  if (!key || placeholder.test(key)) return [];
  if (words[2] === 'get') {
    if (facts.configHas(key, usesPath, stack)) return [];
    return [
      `pulumi config get ${usesPath ? '--path ' : ''}${key}: no stack config has this key` +
        (!usesPath && key.includes('.') ? ' (a nested key needs --path)' : ''),
    ];
  }
  if (raw === undefined || placeholder.test(raw)) {
    // No value to type-check: the key must be one a stack sets or the schema has room for (a
    // record such as alertmanagerReceiverSecrets takes any key).
    const unknownKey = facts.configSetError(key, 'x', usesPath, stack);
    return facts.configHas(key, usesPath, stack) ||
      !/unknown key|unrecognized/i.test(unknownKey ?? '')
      ? []
      : [`pulumi config set ${key}: the stack schema has no such key (${unknownKey})`];
  }
  const value = pulumiConfigValue(raw, usesPath, type);
  const error = facts.configSetError(key, value, usesPath, stack);
  return error
    ? [
        `pulumi config set ${key} stores ${JSON.stringify(value)}, which the stack schema rejects: ${error}`,
      ]
    : [];
}

function checkNpm(words: string[], facts: RepoFacts): string[] {
  const script = words[1] === 'run' ? words[2] : words[1];
  if (!script || !['run', 'start', 'test'].includes(words[1])) return [];
  if (!facts.npmScripts.has(script)) return [`npm script ${script} is not in package.json`];
  const usage = facts.npmCliUsage.get(script);
  const dashes = words.indexOf('--');
  return usage && words[1] === 'run' && dashes !== -1
    ? cliProblems(script, usage, words.slice(dashes + 1))
    : [];
}

function checkAmtool(words: string[], facts: RepoFacts): string[] {
  const problems: string[] = [];
  const positional = words.slice(1).filter((w) => !w.startsWith('-'));
  if (positional[0] === 'check-config') {
    for (const f of positional.slice(1)) {
      if (!existsSync(path.join(facts.root, f))) problems.push(`amtool check-config: no file ${f}`);
    }
    return problems;
  }
  if (!words.some((w) => w.startsWith('--alertmanager.url'))) {
    problems.push(
      `amtool ${positional.slice(0, 2).join(' ')} without --alertmanager.url talks to no Alertmanager`,
    );
  }
  const matchers = positional.filter((w) => /^\w+(=~|!~|!=|=)/.test(w));
  if (positional[0] === 'silence' && positional[1] === 'add' && matchers.length) {
    const firing = [...facts.alerts].flatMap(([alertname, sets]) =>
      sets.map((l) => ({ ...l, alertname })),
    );
    if (!firing.some((labels) => matchers.every((m) => matches(m, labels)))) {
      problems.push(
        `amtool silence matchers ${matchers.join(' ')} match no alert the rules define`,
      );
    }
  }
  // `alert add` fires a synthetic alert on purpose; every other matcher must name a real one.
  const synthetic = positional[0] === 'alert' && positional[1] === 'add';
  for (const w of synthetic ? [] : words) {
    const m = /^alertname(=~|=|!=|!~)(.+)$/.exec(w);
    if (!m) continue;
    const names = m[1].endsWith('~') ? m[2].split('|') : [m[2]];
    for (const n of names) {
      if (!facts.alerts.has(n))
        problems.push(`amtool matcher names alert ${n}, which no rule defines`);
    }
  }
  return problems;
}

function checkLogGrep(pipeline: string[][], facts: RepoFacts): string[] {
  if (!pipeline.some((w) => w[0] === 'kubectl' && w.includes('logs'))) return [];
  const problems: string[] = [];
  const known = new Set([
    ...facts.logs.commonFields,
    ...facts.logs.lines.flatMap((l) => [...l.fields]),
  ]);
  const kept = winstonLevels.slice(0, winstonLevels.indexOf(facts.productionLogLevel) + 1);
  for (const words of pipeline.filter((w) => w[0] === 'grep')) {
    for (const pattern of words.slice(1).filter((w) => !w.startsWith('-'))) {
      for (const m of pattern.matchAll(/"(\w+)":("?)([^"]*)/g)) {
        const [, field, quoted, rawValue] = m;
        if (!known.has(field)) {
          problems.push(
            `log field ${field} is written by no log call in app/src (grep ${pattern})`,
          );
          continue;
        }
        if (field === 'message' && quoted) {
          const prefix = rawValue.split(/[\\.[(*+?|^$]/)[0];
          const written = (l: LogLine) =>
            l.message.startsWith(prefix) || (l.headOnly === true && prefix.startsWith(l.message));
          if (!facts.logs.lines.some(written)) {
            problems.push(`no log line's message starts with "${prefix}" (grep ${pattern})`);
          }
        }
        if (/duration|latency|Ms$/i.test(field)) {
          const dropped = facts.logs.lines.filter(
            (l) => l.fields.has(field) && [...l.levels].some((lv) => !kept.includes(lv)),
          );
          for (const l of dropped) {
            problems.push(
              `latency from logs: "${l.message}" lines carry ${field} but are logged at ` +
                `${[...l.levels].filter((lv) => !kept.includes(lv)).join('/')}, below production's ` +
                `LOG_LEVEL ${facts.productionLogLevel}, so most requests are missing; use the histogram metrics`,
            );
          }
        }
      }
    }
  }
  return problems;
}

function checkScriptFile(words: string[], facts: RepoFacts): string[] {
  const script = words.slice(1).find((w) => !w.startsWith('-'));
  if (!script || !/^[\w./-]+\.sh$/.test(script)) return [];
  return existsSync(path.join(facts.root, script)) ? [] : [`no script ${script} in the repository`];
}

function checkCurl(words: string[], facts: RepoFacts): string[] {
  const url = words.find((w) => /^https?:\/\/(localhost|127\.0\.0\.1)(:\d+)?\//.test(w));
  if (!url) return [];
  const pathOnly = new URL(url.replace(/[<>]/g, '')).pathname;
  if (!pathOnly.startsWith('/v1/')) return [];
  const pattern = (route: string) => new RegExp(`^${route.replace(/:\w+/g, '[^/]+')}$`);
  return facts.routes.some((r) => pattern(r).test(pathOnly))
    ? []
    : [`curl ${pathOnly}: the service has no such route`];
}

/** A runbook query: it parses, names known series with their labels, and rates only counters. */
export function checkQuery(query: Command, facts: RepoFacts): Finding[] {
  const a = analyzeQuery(query.text);
  const problems = [...a.syntaxErrors];
  for (const m of a.metrics) {
    const known = facts.metrics.get(m.name);
    if (!known) {
      if (!facts.recorded.has(m.name)) problems.push(`unknown metric ${m.name}`);
      continue;
    }
    for (const l of m.matcherLabels) {
      if (l !== '__name__' && !known.labels.includes(l)) {
        problems.push(`${m.name} has no label ${l} (${known.origin}: ${known.labels.join(', ')})`);
      }
    }
    if (known.counter && !m.insideRate)
      problems.push(`counter ${m.name} read outside rate()/increase()`);
  }
  if (a.metrics.every((m) => facts.metrics.has(m.name))) {
    const labels = new Set(a.metrics.flatMap((m) => facts.metrics.get(m.name)?.labels ?? []));
    for (const l of a.groupingLabels) {
      if (!labels.has(l)) problems.push(`grouping label ${l} is on none of the query's metrics`);
    }
  }
  return problems.map((message) => ({ file: query.file, line: query.line, message }));
}

export function checkCommand(command: Command, facts: RepoFacts): Finding[] {
  const problems: string[] = [];
  for (const text of [command.text, ...substitutions(command.text)]) {
    const pipeline = simpleCommands(text.replace(/\$\([^()]*\)/g, 'SUBSTITUTED'));
    for (const words of pipeline) {
      if (words[0] === 'kubectl') problems.push(...checkKubectl(words, facts));
      if (words[0] === 'pulumi') problems.push(...checkPulumi(words, facts));
      if (words[0] === 'npm') problems.push(...checkNpm(words, facts));
      if (words[0] === 'amtool') problems.push(...checkAmtool(words, facts));
      if (words[0] === 'bash') problems.push(...checkScriptFile(words, facts));
      if (words[0] === 'curl') problems.push(...checkCurl(words, facts));
    }
    problems.push(...checkLogGrep(pipeline, facts));
  }
  return [...new Set(problems)].map((message) => ({
    file: command.file,
    line: command.line,
    message,
  }));
}

function matches(matcher: string, labels: Record<string, string>): boolean {
  const m = /^(\w+)\s*(=~|!~|!=|=)\s*"?(.*?)"?$/.exec(matcher.trim());
  if (!m) return false;
  const [, label, op, value] = m;
  const actual = labels[label] ?? '';
  if (op === '=') return actual === value;
  if (op === '!=') return actual !== value;
  const re = new RegExp(`^(?:${value})$`);
  return op === '=~' ? re.test(actual) : !re.test(actual);
}

/** Whether some firing of `source` inhibits some firing of `target` under the shipped rules. */
export function inhibits(facts: RepoFacts, source: string, target: string): boolean {
  const sources = (facts.alerts.get(source) ?? []).map((l) => ({ ...l, alertname: source }));
  const targets = (facts.alerts.get(target) ?? []).map((l) => ({ ...l, alertname: target }));
  return facts.inhibitRules.some(
    (r) =>
      !(r.equal ?? []).some((label) => label === 'alertname' && source !== target) &&
      sources.some((s) => (r.source_matchers ?? []).every((m) => matches(m, s))) &&
      targets.some((t) => (r.target_matchers ?? []).every((m) => matches(m, t))),
  );
}

/**
 * An alert runbook that says its alert is inhibited, or that another alert inhibits it, claims an
 * inhibition for every alert the passage names: each must exist in the Alertmanager config.
 */
export function checkInhibitionClaims(passage: Passage, facts: RepoFacts): Finding[] {
  const own = /runbooks\/alerts\/(\w+)\.md$/.exec(passage.file)?.[1];
  if (!own || !/inhibit/i.test(passage.text)) return [];
  const named = [...new Set(passage.text.match(/\b[A-Z]\w+\b/g) ?? [])].filter(
    (n) => n !== own && facts.alerts.has(n),
  );
  return named
    .filter((n) => !inhibits(facts, n, own))
    .map((n) => ({
      file: passage.file,
      line: passage.line,
      message: `claims ${n} inhibits ${own}, but no inhibit rule in alerts/generated/alertmanager.yaml does`,
    }));
}

/** A procedure is followed, not read: its Mitigation must give at least one command to run. */
export function checkProcedureHasCommands(
  file: string,
  text: string,
  commands: readonly Command[],
): Finding[] {
  if (!file.includes('/procedures/')) return [];
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.trim() === '## Mitigation') + 1;
  const end = lines.findIndex((l, i) => i >= start && /^## /.test(l));
  const inside = commands.filter((c) => c.line > start && (end < 0 || c.line <= end));
  // Handing over to another runbook is a step on-call can follow too.
  const handsOver = lines
    .slice(start, end < 0 ? undefined : end)
    .some((l) => /\]\([^)]*\.md(#[^)]*)?\)/.test(l));
  return start > 0 && inside.length === 0 && !handsOver
    ? [
        {
          file,
          line: start,
          message: 'the Mitigation section of a procedure gives no command to run',
        },
      ]
    : [];
}
