import assert from 'node:assert/strict';
import { chmod, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LocalEmbedder } from '../../src/rag/embedding/local-embedder';
import { apiClient } from '../support/http-client';
import { localJsonServer, sendLocalEmbeddings } from '../support/local-json-server';
import {
  freePort,
  realServicesEnv,
  spawnService,
  waitReady,
  type ServiceProcess,
} from '../support/service-process';
import { eventually, uniqueName } from '../support/test-service';

describe('service process lifecycle', function () {
  this.timeout(120_000);
  const running: ServiceProcess[] = [];
  afterEach(() => {
    for (const s of running.splice(0)) if (s.child.exitCode === null) s.child.kill('SIGKILL');
  });

  it('refuses to start on invalid configuration, naming every bad setting', async () => {
    const service = spawnService({
      PORT: 'not-a-port',
      REDIS_URL: 'http://wrong-scheme',
      CHUNK_SIZE: '10',
    });
    running.push(service);
    const { code } = await service.exited;
    assert.equal(code, 2);
    const out = service.output();
    assert.match(out, /invalid configuration/);
    assert.match(out, /PORT:/);
    assert.match(out, /REDIS_URL:/);
    assert.match(out, /CHUNK_SIZE:/);
    assert.doesNotMatch(out, /\n\s+at /, 'a configuration error is a message, not a stack trace');
  });

  it('drains in-flight requests on SIGTERM and exits 0 within the deadline', async () => {
    // A chat endpoint that answers only once the service has begun shutting down, so a query is
    // provably in flight when the signal arrives.
    let chatRequests = 0;
    let shuttingDown = () => false;
    const chat = localJsonServer(async (req, _body, res) => {
      if (req.url !== '/v1/chat/completions') return void res.end('{"data":[]}'); // readiness probe
      chatRequests += 1;
      await eventually(shuttingDown, { timeoutMs: 30_000, what: 'the service shutting down' });
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({
          choices: [{ index: 0, message: { role: 'assistant', content: 'Drained answer [1].' } }],
        }),
      );
    });
    const chatUrl = (await chat.start()).url;
    try {
      const port = await freePort();
      const service = spawnService(
        // Info: the service logs "shutting down" when the signal arrives.
        realServicesEnv(port, {
          CHAT_URL: chatUrl,
          SHUTDOWN_DEADLINE_MS: '10000',
          LOG_LEVEL: 'info',
        }),
      );
      running.push(service);
      shuttingDown = () => service.output().includes('"shutting down"');
      await waitReady(service);
      const api = apiClient(service.url);
      const collection = uniqueName('drain');
      assert.equal((await api.post('/v1/collections', { id: collection })).status, 201);
      const doc = await api.post(`/v1/collections/${collection}/documents`, {
        content: '# Drain\n\nGraceful shutdown drains requests.',
      });
      await eventually(
        async () =>
          (await api.get(`/v1/collections/${collection}/documents/${doc.body.document.id}`)).body
            .status === 'indexed',
      );

      const inFlight = api.post('/v1/query', {
        collection,
        query: 'how does shutdown drain requests?',
      });
      await eventually(async () => chatRequests > 0, { what: 'query reaching the chat endpoint' });
      const signalledAt = Date.now();
      service.child.kill('SIGTERM');
      const answered = await inFlight;
      assert.equal(answered.status, 200);
      assert.match(answered.body.answer, /Drained answer/);
      const { code } = await service.exited;
      assert.equal(code, 0, service.output());
      assert.ok(Date.now() - signalledAt < 10_000);
      await assert.rejects(
        fetch(new URL('/healthz', service.url)),
        'no longer accepting connections',
      );
    } finally {
      await chat.stop();
    }
  });

  it('never loses an accepted document: a worker killed mid-job finishes it promptly after restart', async () => {
    // An OpenAI-compatible embeddings endpoint (computing real local embeddings) that holds any
    // request containing the marker until released, so the job is provably mid-flight.
    const embedder = new LocalEmbedder(384);
    const marker = `durability-${Date.now()}`;
    let held = 0;
    let release = false;
    const server = localJsonServer(async (_req, body, res) => {
      const input: string[] = body.input;
      if (input.some((t) => t.includes(marker))) {
        held += 1;
        while (!release) await new Promise((r) => setTimeout(r, 50));
      }
      await sendLocalEmbeddings(res, embedder, input);
    });
    const embedderUrl = (await server.start()).url;
    try {
      const port = await freePort();
      const env = realServicesEnv(port, {
        EMBEDDER_URL: embedderUrl,
        EMBEDDER_MODEL: uniqueName('test-remote'),
        EMBEDDER_DIMENSIONS: '384',
        // The default expiry (5 minutes) on purpose: recovery must not wait for it.
        QUEUE_RETRY_DELAY_SECONDS: '1',
      });
      const first = spawnService(env);
      running.push(first);
      await waitReady(first);
      const api = apiClient(first.url);
      const collection = uniqueName('durable');
      assert.equal((await api.post('/v1/collections', { id: collection })).status, 201);
      const accepted = await api.post(`/v1/collections/${collection}/documents`, {
        content: `# Durable\n\nThe ${marker} document about zebra migrations must survive a crash.`,
      });
      assert.equal(accepted.status, 202);
      await eventually(async () => held > 0, { what: 'the job to reach the embedder' });
      first.child.kill('SIGKILL');
      await first.exited;
      release = true;

      const second = spawnService(env);
      running.push(second);
      await waitReady(second);
      const api2 = apiClient(second.url);
      const id = accepted.body.document.id;
      const doc = await eventually(
        async () => {
          const res = await api2.get(`/v1/collections/${collection}/documents/${id}`);
          return res.body.status === 'indexed' && res.body;
        },
        // Far inside the 300 s job expiry: the restarted process fails the dead worker's job into
        // a retry at start-up.
        { timeoutMs: 60_000, what: 'the document indexed after restart, before the job expiry' },
      );
      assert.ok(doc.attempts >= 1);
      const answer = await api2.post('/v1/query', { collection, query: 'zebra migrations crash' });
      assert.equal(answer.status, 200);
      assert.equal(answer.body.citations[0]?.documentId, id);
      second.child.kill('SIGTERM');
      assert.equal((await second.exited).code, 0);
    } finally {
      release = true;
      await server.stop();
    }
  });

  it('never creates a credential by itself with NODE_ENV=production, even embedded', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'rag-embedded-prod-'));
    await chmod(dataDir, 0o755);
    try {
      const port = await freePort();
      const service = spawnService({
        NODE_ENV: 'production',
        API_KEY_PEPPER: 'a production pepper of at least thirty-two bytes',
        PORT: String(port),
        HOST: '127.0.0.1',
        EMBEDDED_POSTGRES_DIR: path.join(dataDir, 'pg'),
        EMBEDDED_POSTGRES_PORT: String(await freePort()),
        SEED_DEMO_CORPUS: 'false',
        LOG_LEVEL: 'warn',
      });
      running.push(service);
      await waitReady(service, 90_000);
      assert.doesNotMatch(service.output(), /RAG_API_KEY|rag_[0-9a-f]{12}_/);
      service.child.kill('SIGTERM');
      assert.equal((await service.exited).code, 0, service.output());
    } finally {
      await rm(dataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
    }
  });

  it('refuses to start with NODE_ENV=production and no API_KEY_PEPPER', async () => {
    const port = await freePort();
    const service = spawnService(realServicesEnv(port, { NODE_ENV: 'production' }));
    running.push(service);
    const { code } = await service.exited;
    assert.notEqual(code, 0);
    assert.match(service.output(), /API_KEY_PEPPER/);
  });

  it('runs on embedded defaults with nothing configured and answers from the runbooks', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'rag-embedded-'));
    // As root the embedded server runs as the unprivileged postgres user, who must reach the dir.
    await chmod(dataDir, 0o755);
    try {
      const port = await freePort();
      const service = spawnService({
        PORT: String(port),
        HOST: '127.0.0.1',
        EMBEDDED_POSTGRES_DIR: path.join(dataDir, 'pg'),
        EMBEDDED_POSTGRES_PORT: String(await freePort()),
        LOG_LEVEL: 'warn',
      });
      running.push(service);
      await waitReady(service, 90_000);
      // The first start created a super admin key and printed it, once, outside the log lines.
      const printed = [...service.output().matchAll(/export RAG_API_KEY=(rag_\S+)/g)];
      assert.equal(printed.length, 1, service.output());
      const key = printed[0][1];
      assert.equal(service.output().split(key).length, 2, 'the key appears exactly once');
      assert.equal(
        (await apiClient(service.url, { apiKey: null }).get('/v1/collections')).status,
        401,
      );
      const api = apiClient(service.url, { apiKey: key });
      const ready = await api.get('/readyz');
      assert.equal(ready.body.dependencies.redis, undefined, 'memory cache: no redis dependency');
      // Seeding queues the runbooks one by one in the background, so "nothing queued" can hold
      // before the last one is even queued: wait for every runbook to be indexed.
      const runbooks = (await readdir('runbooks', { recursive: true })).filter((n) =>
        n.endsWith('.md'),
      ).length;
      assert.ok(runbooks > 0 && runbooks <= 100, `${runbooks} runbooks fit one page`);
      await eventually(
        async () => {
          const indexed = await api.get(
            '/v1/collections/runbooks/documents?status=indexed&limit=100',
          );
          return indexed.body.items?.length === runbooks;
        },
        { timeoutMs: 60_000, what: `all ${runbooks} runbooks indexed` },
      );
      const answer = await api.post('/v1/query', {
        collection: 'runbooks',
        query: 'The Postgres primary is down. What should I check first?',
      });
      assert.equal(answer.status, 200);
      assert.ok(answer.body.citations.length > 0);
      assert.match(answer.body.citations[0].source, /^runbooks\/.*Postgres.*\.md$/i);
      // The service, not the embedded-postgres library, owns SIGTERM: it drains first, then stops
      // the database, so nothing fails on a connection the database closed under it.
      service.child.kill('SIGTERM');
      assert.equal((await service.exited).code, 0, service.output());
      assert.doesNotMatch(service.output(), /terminating connection|unhandled promise rejection/);

      // Started again on the same data: no new key is made or shown, and the first one still works.
      const again = spawnService({
        PORT: String(port),
        HOST: '127.0.0.1',
        EMBEDDED_POSTGRES_DIR: path.join(dataDir, 'pg'),
        EMBEDDED_POSTGRES_PORT: String(await freePort()),
        LOG_LEVEL: 'warn',
      });
      running.push(again);
      await waitReady(again, 90_000);
      assert.doesNotMatch(again.output(), /RAG_API_KEY|rag_[0-9a-f]{12}_/);
      assert.equal(
        (await apiClient(again.url, { apiKey: key }).get('/v1/collections')).status,
        200,
      );
      again.child.kill('SIGTERM');
      assert.equal((await again.exited).code, 0, again.output());
    } finally {
      await rm(dataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
    }
  });
});
