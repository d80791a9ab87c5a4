import assert from 'node:assert/strict';
import { Client } from 'pg';
import type { RunningService } from '../../../src/service';
import { eventually, requireEnv, startTestService, uniqueName } from '../../support/test-service';
import { authHeaders } from '../../support/test-credential';

// PROCESS_ROLE splits one image into API pods and ingestion worker pods (infra runs them as two
// workloads). A process consumes jobs only through its registered workers, and every worker
// process holds a liveness session named after it (application_name `rag-ingest-worker:<id>`)
// from before its first fetch; so an API-only process must open none, and a document it accepts
// is indexed only once a worker process runs.

const workerSessionPrefix = 'rag-ingest-worker:';

async function workerSessions(): Promise<number> {
  const db = new Client({ connectionString: requireEnv('DATABASE_URL') });
  await db.connect();
  try {
    const r = await db.query<{ n: string }>(
      'SELECT count(*) AS n FROM pg_stat_activity WHERE application_name LIKE $1',
      [`${workerSessionPrefix}%`],
    );
    return Number(r.rows[0].n);
  } finally {
    await db.end();
  }
}

describe('PROCESS_ROLE: API pods never consume ingestion jobs, worker pods do', function () {
  this.timeout(60_000);
  const started: RunningService[] = [];
  after(async () => {
    for (const s of started.reverse()) await s.close();
  });

  it('an api process registers no ingestion worker; a worker process indexes what it accepted', async () => {
    // Sessions of services other suites left running are counted once, before.
    const before = await workerSessions();
    const api = await startTestService({ PROCESS_ROLE: 'api' });
    started.push(api);
    // startService returns after the workers are registered, so none appearing is final.
    assert.equal(await workerSessions(), before, 'the api process opened a worker session');

    const post = (p: string, body: unknown) =>
      fetch(api.url + p, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...authHeaders() },
        body: JSON.stringify(body),
      });
    const collection = uniqueName('roles');
    assert.equal((await post('/v1/collections', { id: collection })).status, 201);
    const ingest = await post(`/v1/collections/${collection}/documents`, {
      source: 'role.md',
      content: 'Worker pods index documents that API pods accept.',
    });
    const accepted = (await ingest.json()) as { document: { id: string } };
    assert.equal(ingest.status, 202, JSON.stringify(accepted));
    const { id } = accepted.document;

    const worker = await startTestService({ PROCESS_ROLE: 'worker' });
    started.push(worker);
    assert.equal(await workerSessions(), before + 1, 'the worker process registered its workers');
    await eventually(
      async () => {
        const r = await fetch(`${api.url}/v1/collections/${collection}/documents/${id}`, {
          headers: authHeaders(),
        });
        const body = (await r.json()) as { status?: string };
        return body.status === 'indexed';
      },
      { timeoutMs: 30_000, intervalMs: 200, what: 'the document indexed by the worker process' },
    );
  });

  it('an all process (the default) runs both', async () => {
    const before = await workerSessions();
    const all = await startTestService({});
    started.push(all);
    assert.equal(all.config.PROCESS_ROLE, 'all');
    assert.equal(await workerSessions(), before + 1);
  });
});
