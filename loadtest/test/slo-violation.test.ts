import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { failedThresholds, generatedThresholds, runK6 } from './support/k6';

// The other half of the smoke test: the same thresholds, tags and API lib must FAIL a run (k6 exit
// code 99) when a server breaks an SLO. A stand-in server plays the API with a chosen fault.

const queryLatencyKey = 'http_req_duration{method:POST,route:/v1/query}';
const ingestAvailabilityKey =
  'http_req_failed{method:POST,route:/v1/collections/:collectionId/documents}';

/** The latency objective in ms, read from the generated thresholds rather than restated here. */
function queryLatencyLimitMs(): number {
  const [expression] = generatedThresholds()[queryLatencyKey];
  const match = /^p\([\d.]+\)<(\d+)$/.exec(expression);
  assert.ok(match, `unexpected latency threshold ${expression}`);
  return Number(match[1]);
}

const answer = JSON.stringify({
  answer: 'Check replication lag first.',
  citations: [
    { documentId: 'd', chunkId: 'c', score: 0.9, snippet: 'lag', source: 's', title: null },
  ],
  answerer: 'extractive',
  cached: false,
  indexVersion: 1,
});

async function standIn(fault: { queryDelayMs: number; ingestStatus: number }): Promise<Server> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.url === '/v1/query') {
        setTimeout(() => {
          res.writeHead(200, { 'content-type': 'application/json' }).end(answer);
        }, fault.queryDelayMs);
      } else if (req.url === '/v1/collections/probe/documents') {
        res
          .writeHead(fault.ingestStatus, { 'content-type': 'application/problem+json' })
          .end(JSON.stringify({ type: 'about:blank', title: 'Unavailable', status: 503 }));
      } else {
        res.writeHead(404).end();
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return server;
}

async function probe(fault: { queryDelayMs: number; ingestStatus: number }, route: string) {
  const server = await standIn(fault);
  try {
    const { port } = server.address() as AddressInfo;
    return await runK6('loadtest/test/fixtures/slo-probe.js', {
      BASE_URL: `http://127.0.0.1:${port}`,
      PROBE: route,
    });
  } finally {
    server.closeAllConnections();
    server.close();
  }
}

describe('k6 SLO thresholds fail runs that break an SLO', function () {
  this.timeout(60_000);

  it('passes when the stand-in answers within the objectives (control)', async () => {
    const run = await probe({ queryDelayMs: 0, ingestStatus: 503 }, 'query');
    assert.equal(run.code, 0, run.output);
    assert.deepEqual(failedThresholds(run.summary), []);
  });

  it('fails with exit code 99 when queries are slower than the latency objective', async () => {
    const limit = queryLatencyLimitMs();
    const run = await probe({ queryDelayMs: limit + 200, ingestStatus: 503 }, 'query');
    assert.equal(run.code, 99, run.output);
    // Only latency is broken: availability and the checks still pass, so the cause is isolated.
    assert.deepEqual(failedThresholds(run.summary), [
      `${queryLatencyKey} ${generatedThresholds()[queryLatencyKey][0]}`,
    ]);
    assert.ok(run.summary.metrics[queryLatencyKey]['p(99)'] >= limit);
  });

  it('fails with exit code 99 when ingest answers 5xx beyond the error budget', async () => {
    const run = await probe({ queryDelayMs: 0, ingestStatus: 503 }, 'ingest');
    assert.equal(run.code, 99, run.output);
    const failed = failedThresholds(run.summary);
    assert.ok(
      failed.includes(
        `${ingestAvailabilityKey} ${generatedThresholds()[ingestAvailabilityKey][0]}`,
      ),
      failed.join('\n'),
    );
    assert.ok(!failed.some((f) => f.includes('route:/v1/query')), failed.join('\n'));
  });
});
