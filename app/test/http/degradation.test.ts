import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LocalEmbedder } from '../../src/rag/embedding/local-embedder';
import type { RunningService } from '../../src/service';
import {
  startEmbeddedPostgres,
  type EmbeddedPostgresServer,
} from '../../src/stores/postgres/embedded-postgres';
import { apiClient } from '../support/http-client';
import {
  localJsonServer,
  sendLocalEmbeddings,
  type LocalJsonServer,
} from '../support/local-json-server';
import { startPrivateRedis, stopPrivateRedis } from '../support/private-redis';
import { freePort } from '../support/service-process';
import { eventually, startTestService, uniqueName } from '../support/test-service';

function metricValue(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : NaN;
}

async function indexedDocument(
  api: ReturnType<typeof apiClient>,
  collection: string,
  content: string,
) {
  assert.equal((await api.post('/v1/collections', { id: collection })).status, 201);
  const res = await api.post(`/v1/collections/${collection}/documents`, { content });
  assert.equal(res.status, 202, res.text);
  await eventually(
    async () =>
      (await api.get(`/v1/collections/${collection}/documents/${res.body.document.id}`)).body
        .status === 'indexed',
    { what: 'document indexed' },
  );
}

describe('a failing dependency degrades the service instead of failing it', function () {
  this.timeout(60_000);

  describe('Redis stopped mid-run', () => {
    let redis: ChildProcess | undefined;
    let service: RunningService | undefined;
    after(async () => {
      await service?.close();
      if (redis) await stopPrivateRedis(redis);
    });

    it('keeps answering uncached, reports degraded readiness and recovers', async () => {
      const port = await freePort();
      redis = await startPrivateRedis(port);
      service = await startTestService({ REDIS_URL: `redis://127.0.0.1:${port}` });
      const api = apiClient(service.url);
      const collection = uniqueName('redis-outage');
      await indexedDocument(api, collection, '# Cache\n\nThe answer cache lives in Redis.');
      const q = { collection, query: 'where does the answer cache live?' };
      assert.equal((await api.post('/v1/query', q)).body.cached, false);
      assert.equal((await api.post('/v1/query', q)).body.cached, true);

      await stopPrivateRedis(redis);
      const during = await api.post('/v1/query', q);
      assert.equal(during.status, 200);
      assert.equal(during.body.cached, false);
      assert.ok(during.body.citations.length > 0);
      await service.health.refresh();
      const ready = await api.get('/readyz');
      assert.equal(ready.status, 200, 'a cache outage must not take the pod out of rotation');
      assert.equal(ready.body.status, 'degraded');
      assert.equal(ready.body.dependencies.redis.state, 'down');
      const metrics = (await api.get('/metrics')).text;
      assert.equal(metricValue(metrics, 'rag_dependency_up{dependency="redis"}'), 0);
      assert.ok(
        metricValue(metrics, 'rag_cache_requests_total{cache="query",result="error"}') >= 1,
      );

      redis = await startPrivateRedis(port);
      await eventually(
        async () => {
          await service!.health.refresh();
          return (await api.get('/readyz')).body.status === 'ready';
        },
        { what: 'readiness back to ready after Redis returns' },
      );
      assert.equal((await api.post('/v1/query', q)).status, 200);
    });
  });

  describe('replica unreachable', () => {
    let service: RunningService | undefined;
    after(() => service?.close());

    it('reads from the primary and says so in readiness and metrics', async () => {
      const closedPort = await freePort();
      service = await startTestService({
        DATABASE_REPLICA_URLS: `postgres://postgres@127.0.0.1:${closedPort}/rag`,
      });
      const api = apiClient(service.url);
      const collection = uniqueName('no-replica');
      assert.equal((await api.post('/v1/collections', { id: collection })).status, 201);
      // Served by the primary, so the write is visible at once.
      assert.equal((await api.get(`/v1/collections/${collection}`)).status, 200);
      const ready = await api.get('/readyz');
      assert.equal(ready.status, 200);
      assert.equal(ready.body.status, 'degraded');
      assert.equal(ready.body.dependencies.postgres_replica.state, 'down');
      const metrics = (await api.get('/metrics')).text;
      assert.ok(metricValue(metrics, 'rag_db_reads_total{target="primary"}') >= 1);
      assert.ok(!(metricValue(metrics, 'rag_db_reads_total{target="replica"}') > 0));
      assert.equal(metricValue(metrics, 'rag_dependency_up{dependency="postgres_replica"}'), 0);
    });
  });

  describe('embedding endpoint down', () => {
    let service: RunningService | undefined;
    after(() => service?.close());

    // Without an embedding nothing can be retrieved, so the query fails — but as the documented
    // 503 "dependency unavailable" a client may retry, not as an opaque internal error.
    it('answers a query with 503 problem+json and Retry-After, and stays up', async () => {
      const closedPort = await freePort();
      service = await startTestService({
        EMBEDDER_URL: `http://127.0.0.1:${closedPort}/v1`,
        // A model no other suite's collection uses, so start-up has no index to rebuild with it.
        EMBEDDER_MODEL: uniqueName('unreachable-model'),
        EMBEDDER_TIMEOUT_MS: '200',
      });
      const api = apiClient(service.url);
      const collection = uniqueName('no-embedder');
      assert.equal((await api.post('/v1/collections', { id: collection })).status, 201);
      await eventually(async () => (await api.get(`/v1/collections/${collection}`)).status === 200);
      const res = await api.post('/v1/query', { collection, query: 'how is vault unsealed?' });
      assert.equal(res.status, 503, res.text);
      assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
      assert.equal(res.body.type, 'urn:rag-platform:problem:dependency-unavailable');
      assert.ok(Number(res.headers.get('retry-after')) > 0);
      assert.equal((await api.get('/healthz')).status, 200);
      await api.delete(`/v1/collections/${collection}`);
    });
  });

  describe('chat endpoint down', () => {
    let service: RunningService | undefined;
    after(() => service?.close());

    it('answers extractively with citations and does not cache the fallback', async () => {
      const closedPort = await freePort();
      service = await startTestService({
        CHAT_URL: `http://127.0.0.1:${closedPort}/v1`,
        CHAT_TIMEOUT_MS: '500',
      });
      const api = apiClient(service.url);
      const collection = uniqueName('no-chat');
      await indexedDocument(api, collection, '# Vault\n\nUnseal Vault with the KMS key.');
      const q = { collection, query: 'how is vault unsealed?' };
      const first = await api.post('/v1/query', q);
      assert.equal(first.status, 200);
      assert.equal(first.body.answerer, 'extractive');
      assert.ok(first.body.citations.length > 0);
      assert.equal((await api.post('/v1/query', q)).body.cached, false);
    });
  });

  describe('embedder down at start-up, in-process index', () => {
    let embeddings: LocalJsonServer | undefined;
    const services: RunningService[] = [];
    after(async () => {
      for (const s of services) await s.close();
      await embeddings?.stop();
    });

    it('starts anyway, is not ready until the index is rebuilt, then serves', async () => {
      let healthy = true;
      const local = new LocalEmbedder(384);
      embeddings = localJsonServer(async (req, body, res) => {
        if (!healthy) return void res.writeHead(503).end('{}');
        if (req.url === '/v1/models') return void res.end('{"data":[]}');
        await sendLocalEmbeddings(res, local, body.input);
      });
      await embeddings.start();
      const settings = {
        EMBEDDER_URL: embeddings.url,
        EMBEDDER_MODEL: uniqueName('remote'),
        EMBEDDER_DIMENSIONS: '384',
        // Memory caches, one per service: with the shared Redis the restarted service would find
        // every chunk's embedding cached by the first one and rebuild without the embedder.
        REDIS_URL: '',
      };
      const first = await startTestService(settings);
      services.push(first);
      const collection = uniqueName('rebuild');
      const content = `# Rebuild\n\nThe ${collection} index is rebuilt from Postgres after a restart.`;
      await indexedDocument(apiClient(first.url), collection, content);
      await first.close();

      healthy = false;
      const second = await startTestService(settings);
      services.push(second);
      const api = apiClient(second.url);
      // Wait for the rebuild to have asked the embedder and failed, not for time to pass.
      const notReady = await eventually(
        async () => {
          await second.health.refresh();
          const res = await api.get('/readyz');
          return /rebuild failed/.test(JSON.stringify(res.body)) && res;
        },
        { what: 'readiness reporting the failed rebuild' },
      );
      assert.equal(notReady.status, 503);
      assert.equal(notReady.body.dependencies.vector_store.state, 'down');

      healthy = true;
      await eventually(async () => (await api.get('/readyz')).status === 200, {
        timeoutMs: 30_000,
        what: 'ready once the index is rebuilt',
      });
      const answer = await api.post('/v1/query', {
        collection,
        query: 'what is rebuilt after a restart?',
      });
      assert.equal(answer.status, 200);
      assert.ok(answer.body.citations.length > 0, 'the rebuilt index serves the old document');
    });
  });

  describe('Postgres primary stopped mid-run', () => {
    let primary: EmbeddedPostgresServer | undefined;
    let service: RunningService | undefined;
    let dataDir: string | undefined;
    after(async () => {
      await service?.close();
      await primary?.stop();
      if (dataDir) await rm(dataDir, { recursive: true, force: true, maxRetries: 5 });
    });

    it('answers 503 problems with Retry-After, and readiness says down', async () => {
      dataDir = await mkdtemp(path.join(tmpdir(), 'rag-private-primary-'));
      await chmod(dataDir, 0o755);
      primary = await startEmbeddedPostgres({
        dataDir: path.join(dataDir, 'pg'),
        port: await freePort(),
      });
      service = await startTestService({
        DATABASE_URL: primary.url,
        DATABASE_REPLICA_URLS: '',
        MIGRATION_DATABASE_URL: '',
      });
      const api = apiClient(service.url);
      assert.equal((await api.get('/v1/collections')).status, 200);

      await primary.stop();
      const res = await api.get('/v1/collections');
      assert.equal(res.status, 503, res.text);
      assert.equal(res.body.type, 'urn:rag-platform:problem:dependency-unavailable');
      assert.equal(res.headers.get('retry-after'), '5');
      await service.health.refresh();
      const ready = await api.get('/readyz');
      assert.equal(ready.status, 503);
      assert.equal(ready.body.dependencies.postgres_primary.state, 'down');
    });
  });
});
