import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { LocalEmbedder } from '../../src/rag/embedding/local-embedder';
import type { RunningService } from '../../src/service';
import { apiClient } from '../support/http-client';
import { eventually, startTestService, uniqueName } from '../support/test-service';

describe('ingestion that keeps failing ends in a visible dead-letter state', function () {
  this.timeout(90_000);
  let embeddings: Server;
  let healthy = false;
  let service: RunningService;

  before(async () => {
    // An OpenAI-compatible embeddings endpoint that fails until the test heals it.
    const local = new LocalEmbedder(384);
    embeddings = createServer(async (req, res) => {
      let body = '';
      for await (const chunk of req) body += chunk;
      if (!healthy) {
        res.statusCode = 400;
        res.end(JSON.stringify({ error: { message: 'model not loaded' } }));
        return;
      }
      const { input } = JSON.parse(body) as { input: string[] };
      const vectors = await local.embed(input);
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({ data: vectors.map((v, index) => ({ index, embedding: Array.from(v) })) }),
      );
    });
    await new Promise<void>((r) => embeddings.listen(0, '127.0.0.1', r));
    const port = (embeddings.address() as { port: number }).port;
    service = await startTestService({
      EMBEDDER_URL: `http://127.0.0.1:${port}/v1`,
      EMBEDDER_MODEL: 'flaky-remote-384',
      EMBEDDER_DIMENSIONS: '384',
      QUEUE_RETRY_LIMIT: '1',
      QUEUE_RETRY_DELAY_SECONDS: '1',
    });
  });
  after(async () => {
    await service?.close();
    embeddings?.close();
  });

  it('retries, dead-letters with the last error, lists it, and re-queues it on request', async () => {
    const api = apiClient(service.url);
    const collection = uniqueName('dead');
    assert.equal((await api.post('/v1/collections', { id: collection })).status, 201);
    const accepted = await api.post(`/v1/collections/${collection}/documents`, {
      content: '# Dead letters\n\nA document whose embedding keeps failing.',
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
