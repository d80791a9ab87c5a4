import assert from 'node:assert/strict';
import { HttpEmbedder } from '../../../src/rag/embedding/http-embedder';
import { LocalEmbedder } from '../../../src/rag/embedding/local-embedder';
import { UpstreamError } from '../../../src/rag/embedding/openai-compatible-post';
import { OpenAiEmbeddingsServer } from './openai-embeddings-server';

describe('HttpEmbedder against a real OpenAI-compatible server', () => {
  let server: OpenAiEmbeddingsServer;
  const reference = new LocalEmbedder(64);
  const make = (overrides: Partial<ConstructorParameters<typeof HttpEmbedder>[0]> = {}) =>
    new HttpEmbedder({
      url: server.url,
      model: 'test-model',
      dimensions: 64,
      apiKey: 'sk-test',
      batchSize: 3,
      timeoutMs: 2_000,
      baseDelayMs: 10,
      ...overrides,
    });

  beforeEach(async () => {
    server = await new OpenAiEmbeddingsServer(64).start();
  });
  afterEach(async () => server.stop());

  it('batches inputs, keeps input order, sends model and key, and normalizes', async () => {
    const texts = ['a b', 'c d', 'e f', 'g h', 'i j', 'k l', 'm n'];
    server.script.push({ kind: 'ok', shuffle: true });
    const vectors = await make().embed(texts);
    assert.deepEqual(
      server.requests.map((r) => r.body.input),
      [texts.slice(0, 3), texts.slice(3, 6), texts.slice(6)],
    );
    assert.equal(server.requests[0].body.model, 'test-model');
    assert.equal(server.requests[0].headers.authorization, 'Bearer sk-test');
    const expected = await reference.embed(texts);
    vectors.forEach((v, i) => {
      assert.equal(v.length, 64);
      v.forEach((x, j) => assert.ok(Math.abs(x - expected[i][j]) < 1e-5));
    });
  });

  it('retries 503 and 500 with backoff, then succeeds', async () => {
    server.script.push({ kind: 'status', status: 503 }, { kind: 'status', status: 500 });
    const [v] = await make().embed(['x']);
    assert.equal(server.requests.length, 3);
    assert.equal(v.length, 64);
  });

  it('honours Retry-After on 429', async () => {
    server.script.push({ kind: 'status', status: 429, headers: { 'retry-after': '1' } });
    const started = performance.now();
    await make({ baseDelayMs: 1 }).embed(['x']);
    const waited = performance.now() - started;
    assert.equal(server.requests.length, 2);
    assert.ok(waited >= 950, `waited only ${waited} ms`);
  });

  it('gives up after maxRetries with the last error', async () => {
    for (let i = 0; i < 5; i++) server.script.push({ kind: 'status', status: 502 });
    await assert.rejects(make({ maxRetries: 2 }).embed(['x']), (err: UpstreamError) => {
      assert.equal(err.status, 502);
      return true;
    });
    assert.equal(server.requests.length, 3);
  });

  it('does not retry client errors', async () => {
    server.script.push({ kind: 'status', status: 400 });
    await assert.rejects(make().embed(['x']), { name: 'UpstreamError', retryable: false });
    assert.equal(server.requests.length, 1);
  });

  it('times out a hanging request, retries it, then fails', async () => {
    server.script.push({ kind: 'hang', ms: 1_000 }, { kind: 'hang', ms: 1_000 });
    const started = performance.now();
    await assert.rejects(make({ timeoutMs: 150, maxRetries: 1 }).embed(['x']), /timed out/);
    assert.ok(performance.now() - started < 900);
    assert.equal(server.requests.length, 2);
  });

  it('rejects vectors of the wrong dimension without retrying', async () => {
    server.script.push({ kind: 'ok', dimensions: 32 });
    await assert.rejects(make().embed(['x']), /32-dimensional vectors, configured for 64/);
    assert.equal(server.requests.length, 1);
  });

  it('retries network errors (nothing listening) and reports them', async () => {
    const url = server.url;
    await server.stop();
    const embedder = new HttpEmbedder({
      url,
      model: 'm',
      dimensions: 64,
      baseDelayMs: 5,
      maxRetries: 2,
    });
    await assert.rejects(embedder.embed(['x']), { name: 'UpstreamError', retryable: true });
    server = await new OpenAiEmbeddingsServer(64).start(); // for afterEach
  });

  it('stops at once when the caller aborts, without retrying', async () => {
    server.script.push({ kind: 'hang', ms: 1_000 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('client went away')), 50);
    const started = performance.now();
    await assert.rejects(make().embed(['x'], controller.signal), /client went away/);
    assert.ok(performance.now() - started < 500);
    assert.equal(server.requests.length, 1);
  });

  it('sends nothing for an empty input list', async () => {
    assert.deepEqual(await make().embed([]), []);
    assert.equal(server.requests.length, 0);
  });
});
