import assert from 'node:assert/strict';
import { LocalEmbedder } from '../../src/rag/embedding/local-embedder';
import type { RunningService } from '../../src/service';
import { apiClient } from '../support/http-client';
import {
  localJsonServer,
  sendLocalEmbeddings,
  type LocalJsonServer,
} from '../support/local-json-server';
import { eventually, startTestService, uniqueName } from '../support/test-service';

describe('ingestion that keeps failing ends in a visible dead-letter state', function () {
  this.timeout(90_000);
  let embeddings: LocalJsonServer;
  let healthy = false;
  let service: RunningService;

  before(async () => {
    // An OpenAI-compatible embeddings endpoint that fails until the test heals it.
    const local = new LocalEmbedder(384);
    embeddings = localJsonServer(async (_req, body, res) => {
      if (!healthy) {
        res.statusCode = 400;
        res.end(JSON.stringify({ error: { message: 'model not loaded' } }));
        return;
      }
      await sendLocalEmbeddings(res, local, body.input);
    });
    await embeddings.start();
    service = await startTestService({
      EMBEDDER_URL: embeddings.url,
      EMBEDDER_MODEL: uniqueName('flaky-remote'),
      EMBEDDER_DIMENSIONS: '384',
      QUEUE_RETRY_LIMIT: '1',
      QUEUE_RETRY_DELAY_SECONDS: '1',
    });
  });
  after(async () => {
    await service?.close();
    await embeddings?.stop();
  });

  it('retries, dead-letters with the last error, lists it, and re-queues it on request', async () => {
    const api = apiClient(service.url);
    const collection = uniqueName('dead');
    assert.equal((await api.post('/v1/collections', { id: collection })).status, 201);
    const accepted = await api.post(`/v1/collections/${collection}/documents`, {
      // Unique text: a cached embedding from an earlier run would let the job succeed.
      content: `# Dead letters\n\nA document whose embedding keeps failing (${collection}).`,
    });
    assert.equal(accepted.status, 202);
    const id = accepted.body.document.id;

    const dead = await eventually(
      async () => {
        const res = await api.get(`/v1/collections/${collection}/documents?status=dead`);
        return res.body.items?.find((d: { id: string }) => d.id === id);
      },
      { timeoutMs: 60_000, what: 'the document in the dead-letter state' },
    );
    assert.equal(dead.status, 'dead');
    assert.match(dead.lastError, /model not loaded|400/);
    assert.ok(dead.attempts >= 2, `attempts ${dead.attempts}`);
    const metrics = (await api.get('/metrics')).text;
    assert.match(metrics, /rag_ingest_jobs_total\{outcome="dead"\} [1-9]/);
    assert.match(metrics, /rag_ingest_jobs_total\{outcome="retried"\} [1-9]/);

    healthy = true;
    const retried = await api.post(`/v1/collections/${collection}/documents/${id}/retry`);
    assert.equal(retried.status, 202);
    assert.equal(retried.body.status, 'queued');
    const again = await api.post(`/v1/collections/${collection}/documents/${id}/retry`);
    assert.equal(again.status, 409, 'only dead documents can be retried');
    await eventually(
      async () =>
        (await api.get(`/v1/collections/${collection}/documents/${id}`)).body.status === 'indexed',
      { timeoutMs: 30_000, what: 'the retried document indexed' },
    );
  });
});
