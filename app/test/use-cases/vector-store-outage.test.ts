import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { trace } from '@opentelemetry/api';
import express from 'express';
import { apiRoutes } from '../../src/http/app';
import { mountRoutes } from '../../src/http/api-route';
import { problemHandler } from '../../src/http/problem';
import { createLogger } from '../../src/observability/logger';
import { StageTimer } from '../../src/observability/stage-timer';
import { ExtractiveAnswerer } from '../../src/rag/answering/extractive-answerer';
import { LocalEmbedder } from '../../src/rag/embedding/local-embedder';
import { HybridRetriever } from '../../src/rag/retrieval/hybrid-retriever';
import { PostgresLexicalSearch } from '../../src/stores/postgres/lexical-search-repository';
import { QueryPipeline } from '../../src/rag/retrieval/query-pipeline';
import { MemoryCache } from '../../src/stores/cache/memory-cache';
import { ChunksRepository } from '../../src/stores/postgres/chunks-repository';
import { QdrantVectorStore } from '../../src/stores/vector/qdrant-vector-store';
import { CollectionUseCases } from '../../src/use-cases/collections';
import { DocumentUseCases } from '../../src/use-cases/documents';
import { QueryUseCase } from '../../src/use-cases/query';
import { systemPrincipal, testAccess } from '../support/test-access';
import { startDataStack, type DataStack } from '../stores/postgres/data-stack';
import { createTestDatabase, type TestDatabase } from '../stores/postgres/test-database';
import { freePort } from '../support/service-process';

// The vector store failing under the API: a real Qdrant client pointed at a loopback port nothing
// listens on, behind the real routes, use cases and problem mapping, on real Postgres. The adapter
// reports the failure as DependencyUnavailableError('vector_store') (stores/vector/qdrant-errors.ts);
// a query must answer a retryable 503 problem (it was an opaque 500), and a delete must fail
// without removing the collection's rows, so nothing is half-deleted and a retry can finish.

describe('vector store unreachable', function () {
  this.timeout(60_000);
  let testDb: TestDatabase;
  let stack: DataStack;
  let server: Server;
  let base: string;
  const embedder = new LocalEmbedder(64);

  before(async () => {
    testDb = await createTestDatabase('vector_outage');
    stack = await startDataStack(testDb);
    const vectors = new QdrantVectorStore({
      url: `http://127.0.0.1:${await freePort()}`,
      model: embedder.model,
      dimensions: embedder.dimensions,
      timeoutMs: 1_000,
    });
    const logger = createLogger({ level: 'silent', service: 'test' });
    const metrics = stack.metrics;
    const timer = new StageTimer(metrics, trace.getTracer('test'));
    const extractive = new ExtractiveAnswerer();
    const retrieval = new QueryPipeline({
      chunks: new ChunksRepository(stack.database),
      embedder,
      retriever: new HybridRetriever({
        vectors,
        lexical: new PostgresLexicalSearch(stack.database),
        rrfK: 60,
        metrics,
        logger,
      }),
      answerer: extractive,
      fallbackAnswerer: extractive,
      cache: new MemoryCache(),
      cacheTtlSeconds: 60,
      timer,
      metrics,
      logger,
    });
    const { access } = testAccess();
    const api = {
      collections: new CollectionUseCases({
        collections: stack.collections,
        vectors,
        embedding: { model: embedder.model, dimensions: embedder.dimensions },
        logger,
        access,
      }),
      documents: new DocumentUseCases({
        collections: stack.collections,
        documents: stack.documents,
        vectors,
        logger,
        access,
      }),
      queries: new QueryUseCase({ collections: stack.collections, retrieval, access }),
      maxDocumentBytes: 1 << 20,
      // Credential management plays no part in this test.
      apiKeys: undefined as never,
      members: undefined as never,
      principals: undefined as never,
    };
    const app = express();
    app.use(express.json());
    app.use((_req, res, next) => {
      res.locals.principal = systemPrincipal;
      next();
    });
    const router = express.Router();
    mountRoutes(router, apiRoutes(api));
    app.use(router);
    app.use(problemHandler(logger));
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    await api.collections.create(systemPrincipal, { id: 'outage' });
  });
  after(async () => {
    await new Promise((resolve) => server?.close(resolve));
    await stack?.close();
    await testDb?.drop();
  });

  async function call(method: string, path: string, body?: unknown) {
    const res = await fetch(base + path, {
      method,
      headers: body ? { 'content-type': 'application/json' } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    const json: any = res.status === 204 ? undefined : await res.json();
    return { res, body: json };
  }

  it('a query answers 503 dependency-unavailable with Retry-After, not a 500', async () => {
    const { res, body } = await call('POST', '/v1/query', {
      collection: 'outage',
      query: 'is anything there?',
    });
    assert.equal(res.status, 503);
    assert.equal(res.headers.get('content-type'), 'application/problem+json; charset=utf-8');
    assert.ok(Number(res.headers.get('retry-after')) > 0);
    assert.equal(body.type, 'urn:rag-platform:problem:dependency-unavailable');
    assert.equal(body.dependency, 'vector_store');
    assert.doesNotMatch(JSON.stringify(body), /127\.0\.0\.1|fetch failed/);
  });

  it('deleting a document or the collection answers 503 and removes nothing', async () => {
    const ingested = await call('POST', '/v1/collections/outage/documents', {
      source: 'a.md',
      content: '# A\n\nsome text',
    });
    assert.equal(ingested.res.status, 202);
    const documentId: string = ingested.body.document.id;

    const documentDelete = await call('DELETE', `/v1/collections/outage/documents/${documentId}`);
    assert.equal(documentDelete.res.status, 503);
    assert.equal(documentDelete.body.dependency, 'vector_store');
    assert.equal(
      (await call('GET', `/v1/collections/outage/documents/${documentId}`)).res.status,
      200,
    );

    const collectionDelete = await call('DELETE', '/v1/collections/outage');
    assert.equal(collectionDelete.res.status, 503);
    assert.equal(collectionDelete.body.dependency, 'vector_store');
    assert.equal((await call('GET', '/v1/collections/outage')).res.status, 200);
  });
});
