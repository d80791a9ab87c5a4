import assert from 'node:assert/strict';
import type { RunningService } from '../../src/service';
import { apiClient } from '../support/http-client';
import { eventually, startTestService, uniqueName } from '../support/test-service';

// One request must not freeze a pod: while large adversarial documents are chunked, embedded and
// indexed, liveness keeps answering, or Kubernetes would kill the pod and the retried job would
// kill the next one.
describe('liveness while large adversarial documents are indexed', function () {
  this.timeout(180_000);
  let service: RunningService;
  let api: ReturnType<typeof apiClient>;
  const collection = uniqueName('heavy');
  const MiB = 1024 * 1024;

  before(async () => {
    service = await startTestService({ MAX_DOCUMENT_BYTES: String(MiB) });
    api = apiClient(service.url);
    assert.equal((await api.post('/v1/collections', { id: collection })).status, 201);
  });
  after(async () => {
    await api?.delete(`/v1/collections/${collection}`);
    await service?.close();
  });

  it('answers /healthz within the liveness probe timeout (2 s) throughout', async () => {
    const contents = [
      // Quadratic for the former sentence expression: minutes of one blocked event loop.
      '.'.repeat(MiB),
      // Quadratic for the former heading expression.
      '# a' + ' '.repeat(MiB - 8) + 'b',
      // Thousands of tiny sections: thousands of chunks to embed and index.
      '## Step\nDo it.\n'.repeat(16 * 1024),
    ];
    const ids: string[] = [];
    for (const content of contents) {
      const res = await api.post(`/v1/collections/${collection}/documents`, { content });
      assert.equal(res.status, 202, res.text);
      ids.push(res.body.document.id);
    }

    const latencies: number[] = [];
    let done = false;
    const poller = (async () => {
      while (!done) {
        const sent = performance.now();
        const res = await fetch(new URL('/healthz', service.url));
        await res.text();
        assert.equal(res.status, 200);
        latencies.push(performance.now() - sent);
      }
    })();
    try {
      await eventually(
        async () => {
          for (const id of ids) {
            const res = await api.get(`/v1/collections/${collection}/documents/${id}`);
            if (res.body?.status !== 'indexed') return false;
          }
          return true;
        },
        { timeoutMs: 150_000, intervalMs: 200, what: 'all documents indexed' },
      );
    } finally {
      done = true;
      await poller;
    }
    const worst = Math.max(...latencies);
    assert.ok(latencies.length > 10, `only ${latencies.length} liveness probes answered`);
    // The pod's liveness probe (infra/components/rag-app.ts) times out after 2 s: no probe may fail.
    // The former quadratic expressions blocked for minutes; a second of scheduling delay on a
    // loaded test machine is not a frozen pod.
    assert.ok(worst < 2000, `slowest /healthz took ${worst.toFixed(0)} ms`);
  });
});
