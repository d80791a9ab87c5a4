import assert from 'node:assert/strict';
import { Client } from 'pg';
import type { RunningService } from '../../src/service';
import { apiClient } from '../support/http-client';
import { eventually, requireEnv, startTestService, uniqueName } from '../support/test-service';

// Two instances of the service on the same Postgres (primary + replica) and Redis, as two pods.
// Each keeps collection lookups in memory for the cached query path; a re-ingest committed through
// one must reach the other through the change notice (pg_notify at commit), not the TTL: the TTL
// here is ten minutes, so the only way B can answer from the new version within the poll is the
// notice. Stated bound: B answers from the new version once the notice arrives (milliseconds), and
// never later than COLLECTION_CACHE_TTL_MS plus the allowed replica lag if notices are lost.

describe('cached query path across instances', function () {
  this.timeout(90_000);
  let a: RunningService;
  let b: RunningService;
  let primary: Client;
  const collection = uniqueName('stale');
  const question = 'what do I do when the postgres disk is full';

  before(async () => {
    const overrides = { COLLECTION_CACHE_TTL_MS: '600000', QUEUE_CONCURRENCY: '1' };
    a = await startTestService(overrides);
    b = await startTestService(overrides);
    primary = new Client(requireEnv('DATABASE_URL'));
    await primary.connect();
  });
  after(async () => {
    await primary?.end();
    await b?.close();
    await a?.close();
  });

  async function primaryVersion(): Promise<number> {
    const { rows } = await primary.query<{ v: string }>(
      'SELECT index_version AS v FROM collections WHERE name = $1',
      [collection],
    );
    return Number(rows[0].v);
  }

  async function ingest(content: string): Promise<number> {
    const before = await primaryVersion();
    const res = await apiClient(a.url).post(`/v1/collections/${collection}/documents`, {
      source: 'disk.md',
      content,
    });
    assert.ok([200, 202].includes(res.status), res.text);
    // Indexing commits the chunks and the version bump together.
    return eventually(async () => (await primaryVersion()) > before && primaryVersion(), {
      what: 'the re-ingest indexed (index version bumped on the primary)',
      timeoutMs: 30_000,
    });
  }

  const askB = async () => {
    const res = await apiClient(b.url).post('/v1/query', { collection, query: question });
    assert.equal(res.status, 200, res.text);
    return res.body as { indexVersion: number; cached: boolean };
  };

  it('a re-ingest through A is answered from the new version by B, and never from the old one after', async () => {
    assert.equal((await apiClient(a.url).post('/v1/collections', { id: collection })).status, 201);
    const v1 = await ingest(
      '# Disk\n\nWhen the postgres disk is full, check the WAL volume first.',
    );
    // B caches the collection (and the answer) at v1.
    await eventually(
      async () => {
        const answer = await askB();
        return answer.indexVersion === v1 && answer.cached;
      },
      { what: `B answering from its caches at version ${v1}` },
    );

    const v2 = await ingest(
      '# Disk\n\nWhen the postgres disk is full, drop an unused replication slot.',
    );
    const fresh = await eventually(
      async () => {
        const answer = await askB();
        return answer.indexVersion >= v2 && answer;
      },
      { what: `B answering from version ${v2} (the change notice)`, timeoutMs: 20_000 },
    );
    assert.equal(fresh.cached, false, 'the first answer at the new version is computed afresh');
    for (let i = 0; i < 5; i++) {
      assert.ok((await askB()).indexVersion >= v2, 'B never goes back to the old version');
    }
  });

  it('a collection deleted through A is gone for B at once', async () => {
    const name = uniqueName('gone');
    assert.equal((await apiClient(a.url).post('/v1/collections', { id: name })).status, 201);
    await eventually(
      async () =>
        (await apiClient(b.url).post('/v1/query', { collection: name, query: question })).status ===
        200,
      { what: 'B sees the new collection' },
    );
    assert.equal((await apiClient(a.url).delete(`/v1/collections/${name}`)).status, 204);
    await eventually(
      async () =>
        (await apiClient(b.url).post('/v1/query', { collection: name, query: question })).status ===
        404,
      { what: 'B answers 404 for the deleted collection', timeoutMs: 20_000 },
    );
  });
});
