import { randomUUID } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import {
  commandsIn,
  queriesIn,
  simpleCommands,
  type Command,
} from '../../test/support/runbook-commands';
import {
  allowChunkWrites,
  deadDocuments,
  ingestMany,
  rejectChunkWrites,
} from '../fire/fire-drills';
import type { Traffic } from '../fire/traffic';
import type { DrillStack } from '../stack/drill-stack';
import { repoRoot, run } from '../stack/processes';
import { drillApiKey, drillAuthHeaders } from '../stack/drill-credential';

// The runbook commands that can run on the local stack, run for real: curl against the service,
// Prometheus and Alertmanager, amtool against the live Alertmanager, psql on the replica,
// redis-cli, and every PromQL block against the live Prometheus. Commands are found by the same
// extraction the runbook command checker uses (runbooks/test/support/runbook-commands.ts) and
// rewritten only where production and the local stack differ:
//
//   http://localhost:8080 (kubectl port-forward svc/rag-api)      -> the drill's service
//   http://localhost:9090 (port-forward Prometheus)               -> the drill's Prometheus
//   http://localhost:9090/readyz|healthz|metrics (the service's internal port) -> the service
//   http://localhost:9093 (port-forward Alertmanager)             -> the drill's Alertmanager
//   kubectl ... exec ... -- psql|redis-cli ...                     -> the client run here
//   psql                                                           -> PGHOST/PGPORT/PGUSER/PGDATABASE of
//                                                                     the local replica (read-only)
//   redis-cli                                                      -> -h 127.0.0.1 -p <local Redis>
//   <collectionId> <documentId> <old-id>                           -> a collection, a dead-lettered
//                                                                     document and a scratch collection
//                                                                     the drill prepares
//   <id> after `amtool silence add`                                -> the id that command printed
//   curl                                                           -> curl --fail-with-body (an HTTP
//                                                                     error fails the command)
//
// Anything else (kubectl, pulumi, aws, vault, Qdrant's :6333, unresolved placeholders) cannot run
// here and is reported as skipped with the reason.

export interface CommandRun {
  readonly file: string;
  readonly line: number;
  readonly kind: 'shell' | 'promql';
  readonly text: string;
  readonly ran?: string;
  readonly outcome: 'ok' | 'failed' | 'skipped';
  readonly detail: string;
}

export interface CommandContext {
  readonly collectionId: string;
  readonly deadDocumentId: string;
  readonly scratchCollectionId: string;
}

/** A collection with a dead-lettered document, and a scratch collection a runbook may delete. */
export async function prepareCommandContext(
  stack: DrillStack,
  traffic: Traffic,
): Promise<CommandContext> {
  await rejectChunkWrites(stack);
  try {
    await ingestMany({ stack, traffic }, 1, `command-drill-${Date.now()}`);
    const [deadDocumentId] = await deadDocuments(stack, traffic.collection);
    const scratchCollectionId = `scratch-${randomUUID().slice(0, 8)}`;
    const r = await fetch(`${stack.serviceUrl}/v1/collections`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...drillAuthHeaders() },
      body: JSON.stringify({ id: scratchCollectionId }),
    });
    if (r.status !== 201) throw new Error(`scratch collection: ${r.status}`);
    return { collectionId: traffic.collection, deadDocumentId, scratchCollectionId };
  } finally {
    await allowChunkWrites(stack);
  }
}

const localTools = new Set(['curl', 'amtool', 'psql', 'redis-cli']);

export function runbookFiles(): string[] {
  return ['alerts', 'procedures'].flatMap((dir) =>
    readdirSync(path.join(repoRoot, 'runbooks', dir))
      .filter((f) => f.endsWith('.md'))
      .sort()
      .map((f) => `runbooks/${dir}/${f}`),
  );
}

/** The command with the local stack's endpoints and values put in, or why it cannot run here. */
export function substitute(
  text: string,
  stack: Pick<DrillStack, 'serviceUrl' | 'prometheusUrl' | 'alertmanagerUrl' | 'services'>,
  values: Record<string, string>,
): { command: string } | { skip: string } {
  // A datastore client run in a pod runs here against the local server.
  text = text.replace(/^kubectl\b[^|;&]*?\bexec\b[^|;&]*? -- (psql|redis-cli)\b/, '$1');
  const words = simpleCommands(text);
  const tools = words.map((w) => w[0]);
  if (words.length === 1 && words[0].length === 1)
    return { skip: 'a tool named in prose, not a command' };
  if (!tools.some((t) => localTools.has(t)))
    return { skip: `${tools[0]} does not run against the local stack` };
  if (text.includes('localhost:6333')) return { skip: 'Qdrant does not run here' };
  if (tools.includes('kubectl')) return { skip: 'needs a cluster (kubectl)' };
  if (tools.includes('amtool') && !/--alertmanager\.url=|check-config/.test(text)) {
    return { skip: 'amtool without an Alertmanager to talk to' };
  }
  let command = text
    // The service's internal port (INTERNAL_PORT 9090: readiness detail, metrics) shares its
    // number with Prometheus; its paths tell them apart. The drill's service serves them on its
    // one port.
    .replace(/http:\/\/localhost:9090\/(readyz|healthz|metrics)\b/g, `${stack.serviceUrl}/$1`)
    .replaceAll('http://localhost:8080', stack.serviceUrl)
    .replaceAll('http://localhost:9090', stack.prometheusUrl)
    .replaceAll('http://localhost:9093', stack.alertmanagerUrl);
  for (const [placeholder, value] of Object.entries(values))
    command = command.replaceAll(placeholder, value);
  const unresolved = /<[a-z][\w-]*>/i.exec(command);
  if (unresolved) return { skip: `placeholder ${unresolved[0]} has no local value` };
  command = command
    .replace(/(^|[|;&]\s*)curl /g, '$1curl --fail-with-body ')
    .replace(/(^|[|;&]\s*)redis-cli /g, `$1redis-cli -h 127.0.0.1 -p ${stack.services.redisPort} `);
  if (/localhost|\.svc\b|\.internal\b/.test(command))
    return { skip: 'names a host the local stack does not have' };
  return { command };
}

export async function runLocalCommands(
  stack: DrillStack,
  context: CommandContext,
): Promise<CommandRun[]> {
  const results: CommandRun[] = [];
  for (const file of runbookFiles()) {
    const text = readFileSync(path.join(repoRoot, file), 'utf8');
    const values: Record<string, string> = {
      '<collectionId>': context.collectionId,
      '<documentId>': context.deadDocumentId,
      '<old-id>': context.scratchCollectionId,
    };
    const commands: Command[] = commandsIn({ file, text });
    for (const c of commands) {
      const s = substitute(c.text, stack, values);
      if ('skip' in s) {
        results.push({
          file,
          line: c.line,
          kind: 'shell',
          text: c.text,
          outcome: 'skipped',
          detail: s.skip,
        });
        continue;
      }
      const r = await run('bash', ['-o', 'pipefail', '-c', s.command], {
        timeoutMs: 30_000,
        env: {
          ...process.env,
          PGHOST: '127.0.0.1',
          PGPORT: String(stack.services.replicaPort),
          PGUSER: 'postgres',
          PGDATABASE: 'rag',
          // The runbooks' curl commands send it, as an operator's would.
          RAG_API_KEY: drillApiKey(),
        },
      });
      if (/amtool .*silence add/.test(s.command) && r.code === 0) values['<id>'] = r.stdout.trim();
      results.push({
        file,
        line: c.line,
        kind: 'shell',
        text: c.text,
        ran: s.command,
        outcome: r.code === 0 ? 'ok' : 'failed',
        detail: `${r.stdout}${r.stderr}`.trim().slice(0, 400),
      });
    }
    for (const q of queriesIn({ file, text })) {
      const res = await fetch(
        `${stack.prometheusUrl}/api/v1/query?query=${encodeURIComponent(q.text)}`,
      );
      const body = (await res.json()) as {
        status: string;
        error?: string;
        data?: { result: unknown[] };
      };
      results.push({
        file,
        line: q.line,
        kind: 'promql',
        text: q.text,
        ran: q.text,
        outcome: body.status === 'success' ? 'ok' : 'failed',
        detail:
          body.status === 'success'
            ? `${body.data?.result.length ?? 0} series`
            : (body.error ?? ''),
      });
    }
  }
  return results;
}
