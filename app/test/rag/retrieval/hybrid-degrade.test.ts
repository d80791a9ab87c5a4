import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import type { RunningService } from '../../../src/service';
import { apiClient } from '../../support/http-client';
import { eventually, startTestService } from '../../support/test-service';
import {
  createTestDatabase,
  serviceDatabaseEnv,
  metricValue,
  type TestDatabase,
} from '../../stores/postgres/test-database';
import { Client } from 'pg';

// Lexical search is an improvement, not a dependency: the service on its own database, hybrid
// retrieval on (the default), then lexical search broken for real (its column dropped under the
// running service). Queries keep answering from vector search alone, counted and logged; bad
// input is still a 400 problem.

describe('hybrid retrieval when lexical search fails (real service, real Postgres)', function () {
  this.timeout(60_000);
  let testDb: TestDatabase;
  let service: RunningService;
  const lines: Record<string, unknown>[] = [];

  before(async () => {
    testDb = await createTestDatabase('hybrid_degrade');
    const stream = new PassThrough();
    let buffered = '';
    stream.on('data', (d) => {
      buffered += d;
      const parts = buffered.split('\n');
      buffered = parts.pop() ?? '';
      for (const part of parts) if (part.trim()) lines.push(JSON.parse(part));
    });
    service = await startTestService(
      {
        ...serviceDatabaseEnv(testDb),
        LOG_LEVEL: 'warn',
      },
      { logDestination: stream },
    );
  });
  after(async () => {
    await service?.close();
    await testDb?.drop();
  });

  const degraded = () =>
    metricValue(service.metrics, 'rag_retrieval_degraded_total', { retriever: 'lexical' });

  it('answers from vector search alone, counts it and logs why', async () => {
    const api = apiClient(service.url);
    assert.equal((await api.post('/v1/collections', { id: 'oncall' })).status, 201);
    const ingested = await api.post('/v1/collections/oncall/documents', {
      source: 'wal.md',
      title: 'Disk pressure',
      content:
        '# Disk pressure\n\nWhen pg_wal fills the volume, archive or drop the replication slot.',
    });
    assert.equal(ingested.status, 202);
    await eventually(
      async () =>
        (await api.get(`/v1/collections/oncall/documents/${ingested.body.document.id}`)).body
          .status === 'indexed',
      { timeoutMs: 20_000, what: 'document indexed' },
    );

    const hybrid = await api.post('/v1/query', { collection: 'oncall', query: 'pg_wal volume' });
    assert.equal(hybrid.status, 200, hybrid.text);
    assert.equal(hybrid.body.citations[0]?.documentId, ingested.body.document.id);
    assert.equal((await degraded()) ?? 0, 0);

    const admin = new Client(testDb.primaryUrl);
    await admin.connect();
    try {
      await admin.query('ALTER TABLE chunks DROP COLUMN search_vector CASCADE');
    } finally {
      await admin.end();
    }

    // A new question each time: an answer from the cache would not search at all.
    const answered = await eventually(
      async () => {
        const question = `replication slot filling the disk ${Math.random()}`;
        const res = await api.post('/v1/query', { collection: 'oncall', query: question });
        return (await degraded()) ? Object.assign(res, { question }) : undefined;
      },
      { timeoutMs: 20_000, what: 'a query with lexical search failing' },
    );
    assert.equal(answered.status, 200, answered.text);
    assert.equal(answered.body.citations[0]?.documentId, ingested.body.document.id);
    // Not cached: once lexical search is back, the same question gets the full retrieval.
    const again = await api.post('/v1/query', {
      collection: 'oncall',
      query: answered.question,
    });
    assert.equal(again.status, 200, again.text);
    assert.equal(again.body.cached, false);
    assert.ok(
      lines.some(
        (l) =>
          l.message === 'lexical search failed; answering from vector search alone' &&
          l.lexical === 'postgres',
      ),
      'the degradation is logged',
    );
  });

  it('still answers bad input with a 400 problem', async () => {
    const res = await apiClient(service.url).post('/v1/query', {
      collection: 'oncall',
      query: 'x',
      topK: 0,
    });
    assert.equal(res.status, 400);
    assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/);
  });
});
