import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ConflictError, InvalidInputError, NotFoundError } from '../../../src/domain/errors';
import { contentHash } from '../../../src/stores/postgres/document-rows';
import { jobsOf, startDataStack, type DataStack } from './data-stack';
import { Client } from 'pg';
import { createTestDatabase, waitFor, type TestDatabase } from './test-database';

// Repositories against the real primary + replica, with the real queue installed (no workers
// started, so jobs stay visible as the repository left them).

describe('collections and documents repositories', function () {
  this.timeout(30_000);
  let testDb: TestDatabase;
  let stack: DataStack;
  let n = 0;
  const uniqueName = () => `c-${process.pid}-${++n}`;
  const newCollection = () =>
    stack.collections.create({
      id: uniqueName(),
      embeddingModel: 'local-hash-64',
      dimensions: 64,
    });

  before(async () => {
    testDb = await createTestDatabase('repositories');
    stack = await startDataStack(testDb);
  });
  after(async () => {
    await stack?.close();
    await testDb?.drop();
  });

  describe('collections', () => {
    it('creates, rejects a duplicate name with a conflict, finds and deletes', async () => {
      const name = uniqueName();
      const created = await stack.collections.create({
        id: name,
        description: 'docs',
        embeddingModel: 'm',
        dimensions: 8,
      });
      assert.equal(created.indexVersion, 0);
      await assert.rejects(
        stack.collections.create({ id: name, embeddingModel: 'm', dimensions: 8 }),
        (err: unknown) => err instanceof ConflictError,
      );
      assert.deepEqual(await stack.collections.get(name, { fromPrimary: true }), created);
      assert.deepEqual(
        await stack.collections.getByKey(created.key, { fromPrimary: true }),
        created,
      );
      assert.equal(await stack.collections.getByKey('not-a-uuid'), undefined);
      assert.equal(await stack.collections.get('missing'), undefined);
      assert.equal(await stack.collections.delete(created.key), true);
      assert.equal(await stack.collections.delete(created.key), false);
      assert.equal(await stack.collections.getByKey(created.key, { fromPrimary: true }), undefined);
    });

    it('lists by name with keyset pagination and rejects a forged cursor', async () => {
      const prefix = `page-${randomUUID().slice(0, 8)}`;
      for (const suffix of ['c', 'a', 'b']) {
        await stack.collections.create({
          id: `${prefix}-${suffix}`,
          embeddingModel: 'm',
          dimensions: 8,
        });
      }
      const seen: string[] = [];
      // Inserted last, so once the replica shows it, it shows all three.
      await waitFor(
        async () =>
          (await stack.collections.list({ limit: 1000 }).catch(() => ({ items: [] }))).items.some(
            (c) => c.id === `${prefix}-b`,
          ),
        5_000,
        'replica to catch up',
      );
      let cursor: string | undefined;
      do {
        const page = await stack.collections.list({ limit: 2, cursor });
        assert.ok(page.items.length <= 2);
        seen.push(...page.items.map((c) => c.id));
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      const mine = seen.filter((s) => s.startsWith(prefix));
      assert.deepEqual(mine, [`${prefix}-a`, `${prefix}-b`, `${prefix}-c`]);
      assert.deepEqual(seen, [...seen].sort(), 'ordered by name across pages');
      await assert.rejects(
        stack.collections.list({ limit: 2, cursor: 'garbage!' }),
        (err: unknown) => err instanceof InvalidInputError,
      );
    });

    it('bumps the index version and reads it back through the replica', async () => {
      const c = await newCollection();
      assert.equal(await stack.collections.bumpIndexVersion(c.key), 1);
      assert.equal(await stack.collections.bumpIndexVersion(c.key), 2);
      await waitFor(
        async () => (await stack.collections.getByKey(c.key))?.indexVersion === 2,
        5_000,
        'index version on the replica',
      );
      await assert.rejects(stack.collections.bumpIndexVersion(randomUUID()), NotFoundError);
    });
  });

  describe('documents', () => {
    it('ingest: created, unchanged (no job), replaced (new job); each acknowledged with its job', async () => {
      const c = await newCollection();
      const input = {
        source: 'guide.md',
        mediaType: 'text/markdown' as const,
        content: '# A\n\none',
      };
      const first = await stack.documents.ingest(c.key, input);
      assert.equal(first.outcome, 'created');
      assert.equal(first.document.status, 'queued');
      assert.equal(first.document.contentHash, contentHash(input.content));
      assert.equal(first.document.sizeBytes, Buffer.byteLength(input.content));
      assert.deepEqual(await jobsOf(stack, first.document.id), [
        { state: 'created', retryCount: 0 },
      ]);

      const again = await stack.documents.ingest(c.key, input);
      assert.equal(again.outcome, 'unchanged');
      assert.equal(again.document.id, first.document.id);
      assert.equal(
        (await jobsOf(stack, first.document.id)).length,
        1,
        'unchanged enqueues nothing',
      );

      const changed = await stack.documents.ingest(c.key, { ...input, content: '# A\n\ntwo' });
      assert.equal(changed.outcome, 'replaced');
      assert.equal(changed.document.id, first.document.id);
      assert.notEqual(changed.document.contentHash, first.document.contentHash);
      assert.equal((await jobsOf(stack, first.document.id)).length, 2);

      const retitled = await stack.documents.ingest(c.key, {
        ...input,
        content: '# A\n\ntwo',
        metadata: { team: 'sre' },
      });
      assert.equal(retitled.outcome, 'replaced', 'metadata changes re-index (payload filters)');
    });

    it('defaults the source to the content hash, which makes ingest idempotent by content', async () => {
      const c = await newCollection();
      const input = { mediaType: 'text/plain' as const, content: 'same bytes' };
      const a = await stack.documents.ingest(c.key, input);
      const b = await stack.documents.ingest(c.key, input);
      assert.equal(a.document.source, contentHash('same bytes'));
      assert.deepEqual([a.outcome, b.outcome], ['created', 'unchanged']);
    });

    it('enqueues transactionally: a rolled-back ingest leaves neither row nor job', async () => {
      const c = await newCollection();
      const documentId = randomUUID();
      await assert.rejects(
        stack.database.transaction(async (trx) => {
          await trx('documents').insert({
            id: documentId,
            collection_id: c.key,
            source: 'rolled-back',
            media_type: 'text/plain',
            content: 'x',
            content_hash: contentHash('x'),
            size_bytes: 1,
          });
          await stack.queue.enqueue({ documentId, contentHash: contentHash('x') }, trx);
          assert.equal((await jobsOf(stack, documentId)).length, 0, 'invisible before commit');
          throw new Error('client went away before commit');
        }),
        /client went away/,
      );
      assert.deepEqual(await jobsOf(stack, documentId), []);
      assert.equal(await stack.documents.get(documentId, { fromPrimary: true }), undefined);
      // Control: the same steps committed do leave the job.
      await stack.database.transaction(async (trx) => {
        await stack.queue.enqueue({ documentId, contentHash: 'h' }, trx);
      });
      assert.equal((await jobsOf(stack, documentId)).length, 1);
    });

    it('rejects ingest into a missing collection with a not-found error', async () => {
      await assert.rejects(
        stack.documents.ingest(randomUUID(), { mediaType: 'text/plain', content: 'x' }),
        (err: unknown) => err instanceof NotFoundError,
      );
    });

    it('lists with status filter and keyset pagination', async () => {
      const c = await newCollection();
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        const { document } = await stack.documents.ingest(c.key, {
          source: `d${i}`,
          mediaType: 'text/plain',
          content: `body ${i}`,
        });
        ids.push(document.id);
      }
      await stack.indexing.markIndexing(ids[1], contentHash('body 1'));
      await stack.indexing.markFailed(ids[1], contentHash('body 1'), 'boom');
      await stack.indexing.markDead(ids[1], contentHash('body 1'), null);

      await waitFor(
        async () =>
          (await stack.documents.list(c.key, { limit: 10, status: 'dead' })).items.length === 1,
        5_000,
        'dead document visible on the replica',
      );
      const dead = await stack.documents.list(c.key, { limit: 10, status: 'dead' });
      assert.equal(dead.items[0].id, ids[1]);
      assert.equal(dead.items[0].lastError, 'boom', 'markDead keeps the last attempt error');
      assert.equal(dead.items[0].attempts, 1);

      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await stack.documents.list(c.key, { limit: 2, cursor });
        seen.push(...page.items.map((d) => d.id));
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      assert.deepEqual(seen, ids, 'insertion order, no gaps or repeats across pages');
      await assert.rejects(
        stack.documents.list(c.key, {
          limit: 2,
          cursor: Buffer.from('{"k":"1;drop"}').toString('base64url'),
        }),
        InvalidInputError,
      );
    });

    it('completes indexing only for the current content, replacing chunk rows and bumping the version', async () => {
      const c = await newCollection();
      const { document } = await stack.documents.ingest(c.key, {
        source: 'x',
        title: 'Title X',
        mediaType: 'text/plain',
        content: 'v1',
      });
      const chunk = (i: number) => ({
        id: randomUUID(),
        ordinal: i,
        text: `chunk ${i}`,
        headingPath: ['H', `h${i}`],
        start: i,
        end: i + 1,
      });
      assert.equal(
        await stack.indexing.completeIndexing(document.id, 'stale-hash', [chunk(0)]),
        null,
      );

      const first = [chunk(0), chunk(1), chunk(2)];
      const done = await stack.indexing.completeIndexing(document.id, document.contentHash, first);
      assert.ok(done);
      assert.equal(done.acceptedAt.getTime(), document.acceptedAt.getTime());
      const second = [chunk(0)];
      await stack.indexing.completeIndexing(document.id, document.contentHash, second);

      const after = await stack.documents.get(document.id, { fromPrimary: true });
      assert.equal(after?.status, 'indexed');
      assert.equal(after?.chunkCount, 1);
      assert.ok(after?.indexedAt);
      assert.deepEqual(await stack.indexing.getChunkIds(document.id), [second[0].id]);
      const chunks = await stack.chunks.getChunks([second[0].id, first[1].id, 'nonsense'], {
        fromPrimary: true,
      });
      assert.deepEqual(chunks, [
        {
          id: second[0].id,
          documentId: document.id,
          collectionKey: c.key,
          ordinal: 0,
          text: 'chunk 0',
          headingPath: ['H', 'h0'],
          start: 0,
          end: 1,
          documentSource: 'x',
          documentTitle: 'Title X',
        },
      ]);
      await waitFor(
        async () => (await stack.chunks.getChunks([second[0].id])).length === 1,
        5_000,
        'chunks through the replica',
      );
      assert.equal(
        (await stack.collections.getByKey(c.key, { fromPrimary: true }))?.indexVersion,
        2,
      );
    });

    it('deletes a document with its chunks and pending jobs, bumping the version', async () => {
      const c = await newCollection();
      const { document } = await stack.documents.ingest(c.key, {
        source: 'x',
        mediaType: 'text/plain',
        content: 'v1',
      });
      await stack.indexing.completeIndexing(document.id, document.contentHash, [
        { id: randomUUID(), ordinal: 0, text: 't', headingPath: [], start: 0, end: 1 },
      ]);
      await stack.documents.ingest(c.key, { source: 'x', mediaType: 'text/plain', content: 'v2' });
      const removed = await stack.documents.delete(c.key, document.id);
      assert.equal(removed.id, document.id);
      assert.equal(await stack.documents.get(document.id, { fromPrimary: true }), undefined);
      assert.deepEqual(await stack.indexing.getChunkIds(document.id), []);
      assert.deepEqual(await jobsOf(stack, document.id), []);
      assert.equal(
        (await stack.collections.getByKey(c.key, { fromPrimary: true }))?.indexVersion,
        2,
      );
      await assert.rejects(stack.documents.delete(c.key, document.id), NotFoundError);
    });

    it('retry() re-queues only dead documents', async () => {
      const c = await newCollection();
      const { document } = await stack.documents.ingest(c.key, {
        source: 'x',
        mediaType: 'text/plain',
        content: 'v1',
      });
      await assert.rejects(
        stack.documents.retry(document.id),
        (err: unknown) => err instanceof ConflictError,
      );
      await assert.rejects(stack.documents.retry(randomUUID()), NotFoundError);
      await stack.indexing.markDead(document.id, document.contentHash, 'gave up');
      const requeued = await stack.documents.retry(document.id);
      assert.equal(requeued.status, 'queued');
      assert.equal(requeued.lastError, null);
      assert.deepEqual(
        (await jobsOf(stack, document.id)).map((j) => j.state),
        ['created'],
        'the pending job of the dead version was replaced by exactly one new job',
      );
    });
  });

  describe('reads behind a lagging replica', () => {
    it('finds what was just written: a lookup or chunk fetch that misses on the replica asks the primary', async () => {
      // A write the replica has replayed just now keeps its measured lag under the bound while
      // replay is paused, so reads keep going to it for the rest of the test.
      const warm = await newCollection();
      await waitFor(
        async () =>
          (await stack.database.read((db) => db('collections').where({ id: warm.key }).first())) !==
          undefined,
        5_000,
        'the replica to replay a fresh write',
      );
      const replica = new Client(testDb.replicaUrl);
      await replica.connect();
      try {
        await replica.query('SELECT pg_wal_replay_pause()');
        const c = await newCollection();
        const { document } = await stack.documents.ingest(c.key, {
          mediaType: 'text/plain',
          content: 'written while the replica is paused',
        });
        const chunkId = randomUUID();
        await stack.indexing.completeIndexing(document.id, document.contentHash, [
          { id: chunkId, ordinal: 0, text: 'paused', headingPath: [], start: 0, end: 6 },
        ]);
        assert.equal(
          stack.database.health().readTarget,
          'replica',
          'reads still go to the replica',
        );
        assert.equal((await stack.collections.get(c.id))?.key, c.key);
        assert.equal((await stack.documents.get(document.id))?.status, 'indexed');
        assert.deepEqual(
          (await stack.chunks.getChunks([chunkId])).map((ch) => ch.text),
          ['paused'],
        );
      } finally {
        await replica.query('SELECT pg_wal_replay_resume()').catch(() => undefined);
        await replica.end();
      }
    });
  });
});
