import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../src/config';
import type { InjectedFaults } from '../../src/faults/fault-file';
import type { RunningService } from '../../src/service';
import { eventually, startTestService, uniqueName } from '../support/test-service';
import { authHeaders } from '../support/test-credential';

// The fire drills' fault gate: a drill writes the file and the named route fails (or slows down)
// as the SLIs see it, deleting the file ends the fault, and production refuses the setting.

describe('fault injection for fire drills (FAULT_INJECTION_FILE)', function () {
  this.timeout(60_000);
  let dir: string;
  let file: string;
  let service: RunningService;

  const post = (p: string, body: unknown) =>
    fetch(service.url + p, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...authHeaders() },
      body: JSON.stringify(body),
    });
  const write = (faults: InjectedFaults) => writeFileSync(file, JSON.stringify(faults));
  const queryRequests = async (status: string) => {
    const text = await (await fetch(`${service.url}/metrics`)).text();
    const line = text
      .split('\n')
      .find(
        (l) =>
          l.startsWith('rag_http_requests_total{') &&
          l.includes('route="/v1/query"') &&
          l.includes('method="POST"') &&
          l.includes(`status_code="${status}"`),
      );
    return line ? Number(line.split(' ').at(-1)) : 0;
  };

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'fault-injection-'));
    file = path.join(dir, 'faults.json');
    service = await startTestService({ FAULT_INJECTION_FILE: file });
  });
  after(async () => {
    await service?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a named route answers the injected 5xx as a problem, counted under its route template', async () => {
    const collection = uniqueName('faults');
    assert.equal((await post('/v1/collections', { id: collection })).status, 201);
    const before503 = await queryRequests('503');
    write({ routes: [{ method: 'POST', route: '/v1/query', status: 503 }] });
    const res = await eventually(
      async () => {
        const r = await post('/v1/query', { collection, query: 'anything' });
        return r.status === 503 ? r : undefined;
      },
      { what: 'the injected 503' },
    );
    assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
    assert.equal(
      ((await res.json()) as { type: string }).type,
      'urn:rag-platform:problem:injected-fault',
    );
    assert.ok((await queryRequests('503')) > before503);
    // Other routes are untouched.
    assert.equal((await post('/v1/collections', { id: uniqueName('faults') })).status, 201);

    rmSync(file);
    await eventually(
      async () => (await post('/v1/query', { collection, query: 'anything' })).status === 200,
      { what: 'the fault removed' },
    );
  });

  it('a delay slows the route down and then lets it answer', async () => {
    const collection = uniqueName('faults');
    assert.equal((await post('/v1/collections', { id: collection })).status, 201);
    write({ routes: [{ method: 'POST', route: '/v1/query', delayMs: 400 }] });
    await eventually(
      async () => {
        const started = Date.now();
        const r = await post('/v1/query', { collection, query: 'anything' });
        return r.status === 200 && Date.now() - started >= 400;
      },
      { what: 'a delayed 200' },
    );
    rmSync(file);
  });

  it('a paused ingestion holds documents queued until the pause ends', async () => {
    const collection = uniqueName('faults');
    assert.equal((await post('/v1/collections', { id: collection })).status, 201);
    write({ ingestionPaused: true });
    // Past the gate's refresh, so the worker has read the pause before the document is queued.
    await eventually(async () => (await fetch(`${service.url}/healthz`)).ok && Date.now(), {
      what: 'service',
    });
    const started = Date.now();
    await eventually(() => Date.now() - started > 400, { what: 'the pause read', intervalMs: 100 });
    const res = await post(`/v1/collections/${collection}/documents`, {
      source: 'paused.md',
      content: 'Held by the drill until the pause ends.',
    });
    assert.equal(res.status, 202);
    const { document } = (await res.json()) as { document: { id: string } };
    const status = async () =>
      (
        (await (
          await fetch(`${service.url}/v1/collections/${collection}/documents/${document.id}`, {
            headers: authHeaders(),
          })
        ).json()) as { status: string }
      ).status;
    const queuedSince = Date.now();
    await eventually(() => Date.now() - queuedSince > 1_500, { what: 'time', intervalMs: 100 });
    assert.equal(await status(), 'queued');
    rmSync(file);
    await eventually(async () => (await status()) === 'indexed', {
      what: 'indexed after the pause',
    });
  });

  it('production refuses the setting', () => {
    assert.throws(
      () =>
        loadConfig({
          NODE_ENV: 'production',
          DATABASE_URL: 'postgres://h/db',
          FAULT_INJECTION_FILE: file,
        }),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.problems.some((p) => p.startsWith('FAULT_INJECTION_FILE')),
    );
    assert.equal(
      loadConfig({ NODE_ENV: 'test', FAULT_INJECTION_FILE: file }).FAULT_INJECTION_FILE,
      file,
    );
  });
});
