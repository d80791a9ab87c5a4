import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generatedThresholds, runK6 } from './support/k6';

// The searches read the right level from the per-step sub-metrics k6 reported: a stand-in API
// answers some queries of the second level with 503 (availability broken) and every query from
// the third level on slower than the latency objective. The report must name the first level as
// the highest that met every SLO, and the second as the highest that met the latency objective.

const latencyKey = 'http_req_duration{method:POST,route:/v1/query}';

function latencyLimitMs(): number {
  const match = /^p\([\d.]+\)<(\d+)$/.exec(generatedThresholds()[latencyKey][0]);
  assert.ok(match);
  return Number(match[1]);
}

/** Just enough of the API for load.js: health, collections, ingest, document status, query. */
async function standIn(
  slowAfterMs: number,
  delayMs: number,
  failing: [fromMs: number, toMs: number] = [0, 0],
): Promise<Server> {
  let firstQuery: number | undefined;
  let documents = 0;
  let queries = 0;
  const json = (res: import('node:http').ServerResponse, status: number, body: unknown) =>
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (d) => (raw += d));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const body = raw ? JSON.parse(raw) : {};
      if (url.pathname === '/healthz') return json(res, 200, { status: 'ok' });
      if (url.pathname === '/readyz') return json(res, 200, { status: 'ready' });
      if (url.pathname === '/v1/collections' && req.method === 'POST') {
        return json(res, 201, { id: body.id });
      }
      if (/^\/v1\/collections\/[^/]+$/.test(url.pathname) && req.method === 'DELETE') {
        return res.writeHead(204).end();
      }
      if (/\/documents$/.test(url.pathname) && req.method === 'POST') {
        return json(res, 202, { document: { id: `d${++documents}`, source: body.source } });
      }
      if (/\/documents$/.test(url.pathname)) return json(res, 200, { items: [] });
      if (/\/documents\/[^/]+$/.test(url.pathname)) return json(res, 200, { status: 'indexed' });
      if (url.pathname === '/v1/query') {
        firstQuery ??= Date.now();
        const since = Date.now() - firstQuery;
        const slow = since > slowAfterMs;
        if (since >= failing[0] && since < failing[1] && ++queries % 5 === 0) {
          return json(res, 503, { title: 'Unavailable', status: 503 });
        }
        const answer = {
          answer: 'Check replication lag first.',
          citations: [{ documentId: 'd', chunkId: 'c', score: 0.9, snippet: 'lag' }],
          cached: false,
        };
        setTimeout(() => json(res, 200, answer), slow ? delayMs : 0);
        return;
      }
      json(res, 404, {});
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return server;
}

describe('load.js searches (breakpoint, users)', function () {
  this.timeout(90_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'breakpoint-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reports the last level before the SLOs broke, from per-step results', async () => {
    // Levels 5, 10, 15 req/s: ramp 1 s, hold 3 s each, so the steady windows are 1-4 s, 5-8 s
    // and 9-12 s into the scenario. Queries turn slow 8.5 s after the first one (which arrives
    // ~0.6 s into the ramp): between the second level's hold and the third's. During the second
    // level's hold one query in five answers 503: that level breaks availability, not latency.
    const server = await standIn(8_500, latencyLimitMs() + 300, [5_000, 7_000]);
    try {
      const { port } = server.address() as AddressInfo;
      const run = await runK6('loadtest/k6/load.js', {
        BASE_URL: `http://127.0.0.1:${port}`,
        PROFILE: 'breakpoint',
        RATE_START: '5',
        RATE_STEP: '5',
        RATE_MAX: '15',
        STEP_RAMP: '1s',
        STEP_HOLD: '3s',
        INGEST_SHARE: '0',
        COLLECTIONS: '1',
        SEED_DOCUMENTS: '1',
        REPORT_DIR: dir,
      });
      // The steady windows as a whole broke the latency objective: k6 fails the run.
      assert.equal(run.code, 99, run.output);
      const report = JSON.parse(readFileSync(path.join(dir, 'report.json'), 'utf8'));
      assert.deepEqual(
        report.steps.map((s: { level: number; met: boolean }) => [s.level, s.met]),
        [
          [5, true],
          [10, false],
          [15, false],
        ],
        JSON.stringify(report.steps, null, 1),
      );
      assert.deepEqual(report.result, {
        measure: 'arrival rate (requests/s)',
        highestMet: 5,
        firstFailed: 10,
        highestMetLatency: 10,
        firstFailedLatency: 15,
      });
      assert.ok(report.steps[2].p99 >= latencyLimitMs(), `${report.steps[2].p99}`);
      const markdown = readFileSync(path.join(dir, 'report.md'), 'utf8');
      assert.match(
        markdown,
        /\*\*Highest arrival rate \(requests\/s\) that met the SLOs: 5\*\* \(first level that broke them: 10\)/,
      );
      assert.match(
        markdown,
        /Highest arrival rate \(requests\/s\) that met the latency objective: 10 \(first level that broke it: 15\)/,
      );
      assert.match(markdown, /## Steps/);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('users: holds each number of users, each thinking between questions', async () => {
    const server = await standIn(Number.MAX_SAFE_INTEGER, 0);
    try {
      const { port } = server.address() as AddressInfo;
      const run = await runK6('loadtest/k6/load.js', {
        BASE_URL: `http://127.0.0.1:${port}`,
        PROFILE: 'users',
        USERS: '2,4',
        STEP_RAMP: '1s',
        STEP_HOLD: '2s',
        THINK_TIME: '500ms',
        COLLECTIONS: '1',
        SEED_DOCUMENTS: '1',
        REPORT_DIR: dir,
      });
      assert.equal(run.code, 0, run.output);
      const report = JSON.parse(readFileSync(path.join(dir, 'report.json'), 'utf8'));
      assert.deepEqual(report.result, {
        measure: 'concurrent users',
        highestMet: 4,
        firstFailed: null,
        highestMetLatency: 4,
        firstFailedLatency: null,
      });
      for (const step of report.steps as { level: number; requests: number }[]) {
        // A user asks at most once per think time (plus the one in flight at the window's start).
        assert.ok(step.requests > 0, `${step.level} users sent nothing`);
        assert.ok(
          step.requests <= step.level * (2 / 0.5 + 1),
          `${step.level} users sent ${step.requests} queries in 2 s`,
        );
      }
      const markdown = readFileSync(path.join(dir, 'report.md'), 'utf8');
      assert.match(markdown, /\*\*Highest concurrent users that met the SLOs: 4\*\*/);
      // Users only ask (no ingest share): the ingest SLO is listed as not exercised, never failed.
      const slos = report.slos as { key: string; ok: boolean; exercised: boolean }[];
      for (const slo of slos) {
        const ingest = slo.key.includes('/documents');
        assert.equal(slo.exercised, !ingest, slo.key);
        if (!ingest) assert.ok(slo.ok, slo.key);
        const row = markdown.split('\n').find((l) => l.includes(slo.key));
        assert.ok(row?.endsWith(ingest ? '| not exercised |' : '| pass |'), row);
      }
      assert.doesNotMatch(run.output, /FAIL/);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});
