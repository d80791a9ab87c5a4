import { randomUUID } from 'node:crypto';
import { eventually, GiveUp } from '../../../test-support/eventually';
import { tsNodeEnv } from '../../../test-support/ts-node-env';
import { drillServiceSettings } from '../stack/drill-stack';
import type { LocalServices } from '../stack/local-services';
import { freePort, startProcess, type Started } from '../stack/processes';
import { createDrillApiKey, drillAuthHeaders } from '../stack/drill-credential';

// Vector index rebuild drill: the vector index is lost (the in-process index of the local stack
// goes with its process, as a Qdrant volume can go with its node), and the service rebuilds it
// from the chunks in Postgres. Documents are ingested and indexed, the service stops, a new one
// starts, and the drill measures how long until it is ready again and answers from every one of
// those documents. (A Qdrant restore from snapshots is runbooks/procedures/restore-qdrant.md;
// the rebuild from Postgres is its fallback, and the only path when no snapshot exists.)

export interface IndexRebuildResult {
  readonly documents: number;
  /** Chunks the rebuild restored (every indexed chunk in the database, other collections too). */
  readonly chunksRestored: number;
  /** Process start to /readyz 200, the index whole. */
  readonly timeToReadyMs: number;
  /** The rebuild itself, from the service's own log (start-up line to "rebuilt" line). */
  readonly rebuildMs: number;
}

function startService(services: LocalServices, port: number): Started {
  return startProcess(
    process.execPath,
    ['-r', 'ts-node/register/transpile-only', 'app/src/main.ts'],
    {
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/root',
        TS_NODE_TRANSPILE_ONLY: '1',
        ...tsNodeEnv(),
        ...drillServiceSettings,
        LOG_LEVEL: 'info',
        DATABASE_URL: services.databaseUrl,
        DATABASE_REPLICA_URLS: services.replicaUrl,
        ...(services.migrationUrl ? { MIGRATION_DATABASE_URL: services.migrationUrl } : {}),
        REDIS_URL: services.redisUrl,
        HOST: '127.0.0.1',
        PORT: String(port),
      },
    },
  );
}

async function ready(service: Started, url: string, timeoutMs: number): Promise<void> {
  await eventually(
    async () => {
      if (service.exited()) throw new GiveUp(`service exited:\n${service.output().slice(-3000)}`);
      return (await fetch(`${url}/readyz`)).status === 200;
    },
    { timeoutMs, intervalMs: 50, what: 'the service ready' },
  );
}

const post = (url: string, body: unknown) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...drillAuthHeaders() },
    body: JSON.stringify(body),
  });

interface LogLine {
  time?: string;
  timestamp?: string;
  msg?: string;
  message?: string;
  chunks?: number;
}

function logLines(output: string): LogLine[] {
  return output
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => {
      try {
        return JSON.parse(l) as LogLine;
      } catch {
        return {};
      }
    });
}

export async function vectorIndexRebuildDrill(
  services: LocalServices,
  options: { documents: number; log?: (line: string) => void },
): Promise<IndexRebuildResult> {
  const log = options.log ?? (() => undefined);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const collection = `rebuild-${randomUUID().slice(0, 8)}`;
  const markers = Array.from(
    { length: options.documents },
    (_, i) => `marker${i}x${randomUUID().slice(0, 6)}`,
  );

  let service = startService(services, port);
  try {
    await ready(service, url, 120_000);
    await createDrillApiKey({ DATABASE_URL: services.databaseUrl });
    if ((await post(`${url}/v1/collections`, { id: collection })).status !== 201)
      throw new Error('create');
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let i = next++; i < markers.length; i = next++) {
          const r = await post(`${url}/v1/collections/${collection}/documents`, {
            source: `doc-${i}.md`,
            content: `# Document ${i}\n\nThe restore marker of this document is ${markers[i]}.`,
          });
          if (r.status !== 202) throw new Error(`ingest ${i}: ${r.status}`);
        }
      }),
    );
    const pending = async (status: string) =>
      (
        (await (
          await fetch(`${url}/v1/collections/${collection}/documents?status=${status}&limit=1`, {
            headers: drillAuthHeaders(),
          })
        ).json()) as {
          items: unknown[];
        }
      ).items.length;
    await eventually(async () => (await pending('queued')) + (await pending('indexing')) === 0, {
      timeoutMs: 60_000 + options.documents * 100,
      intervalMs: 250,
      what: 'every document indexed',
    });
    log(
      `${options.documents} documents indexed; stopping the service (its in-process index is lost)`,
    );
    await service.stop();

    const started = Date.now();
    service = startService(services, port);
    await ready(service, url, 600_000);
    const timeToReadyMs = Date.now() - started;
    const lines = logLines(service.output());
    const at = (l: LogLine) => Date.parse(l.time ?? l.timestamp ?? '');
    const rebuilt = lines.find((l) => (l.msg ?? l.message ?? '').includes('vector index rebuilt'));
    const first = lines.find((l) => !Number.isNaN(at(l)));
    // Every document is searchable again: its own marker word retrieves it.
    for (const [i, marker] of markers.entries()) {
      const r = await post(`${url}/v1/query`, { collection, query: marker, topK: 1 });
      const body = (await r.json()) as { citations?: { documentId?: string; snippet?: string }[] };
      if (r.status !== 200 || !body.citations?.some((c) => c.snippet?.includes(marker))) {
        throw new Error(
          `document ${i} not found by its marker after the rebuild: ${r.status} ${JSON.stringify(body)}`,
        );
      }
    }
    return {
      documents: options.documents,
      chunksRestored: rebuilt?.chunks ?? NaN,
      timeToReadyMs,
      rebuildMs: rebuilt && first ? at(rebuilt) - at(first) : NaN,
    };
  } finally {
    await service.stop();
  }
}
