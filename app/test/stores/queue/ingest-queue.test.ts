import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { isDeepStrictEqual } from 'node:util';
import { Client } from 'pg';
import { createMetrics } from '../../../src/observability/metrics';
import {
  IngestQueue,
  type IngestHandlers,
  type IngestJob,
} from '../../../src/stores/queue/ingest-queue';
import { jobsOf, startDataStack, type DataStack } from '../postgres/data-stack';
import {
  createTestDatabase,
  metricValue,
  waitFor,
  type TestDatabase,
} from '../postgres/test-database';

// The durable queue on real Postgres: backoff between retries, dead letters visible through the
// repository and re-queued by retry(), and a worker SIGKILLed mid-job whose job still completes.

/** Handlers that write real document state, failing `process` while `failUntil` says so. */
function recordingHandlers(stack: DataStack, failWhile: (attempt: number) => boolean) {
  const attempts: number[] = [];
  const handlers: IngestHandlers = {
    async process(job: IngestJob) {
      attempts.push(Date.now());
      await stack.indexing.markIndexing(job.documentId, job.contentHash);
      if (failWhile(attempts.length)) throw new Error(`transient failure #${attempts.length}`);
      await stack.indexing.completeIndexing(job.documentId, job.contentHash, []);
    },
    failed: (job, error) =>
      stack.indexing.markFailed(job.documentId, job.contentHash, error.message),
    dead: (job, lastError) => stack.indexing.markDead(job.documentId, job.contentHash, lastError),
  };
  return { attempts, handlers };
}

describe('IngestQueue (pg-boss)', function () {
  this.timeout(60_000);
  let testDb: TestDatabase;
  let stack: DataStack | undefined;

  beforeEach(async () => {
    testDb = await createTestDatabase('queue');
  });
  afterEach(async () => {
    await stack?.close();
    stack = undefined;
    await testDb.drop();
  });

  async function ingestOne(s: DataStack, content = 'hello') {
    const c = await s.collections.create({ id: 'q', embeddingModel: 'm', dimensions: 64 });
    return (await s.documents.ingest(c.key, { source: 'doc', mediaType: 'text/plain', content }))
      .document;
  }

  it('retries a failing job with exponential backoff, then completes it', async () => {
    stack = await startDataStack(testDb, { retryLimit: 3, retryDelaySeconds: 1 });
    const document = await ingestOne(stack);
    const { attempts, handlers } = recordingHandlers(stack, (n) => n <= 2);
    await stack.queue.startWorkers(handlers);

    await waitFor(
      async () =>
        (await stack!.documents.get(document.id, { fromPrimary: true }))?.status === 'indexed',
      20_000,
      'document indexed after retries',
    );
    assert.equal(attempts.length, 3);
    const gaps = [attempts[1] - attempts[0], attempts[2] - attempts[1]];
    // pg-boss waits delay·2^(n-1)·(1..2) before retry n: at least 1 s, then at least 2 s.
    assert.ok(gaps[0] >= 1_000, `first retry after ${gaps[0]} ms`);
    assert.ok(gaps[1] >= 2_000, `second retry after ${gaps[1]} ms (backoff)`);
    const doc = await stack.documents.get(document.id, { fromPrimary: true });
    assert.equal(doc?.attempts, 3);
    assert.equal(doc?.lastError, null);
    assert.equal(
      await metricValue(stack.metrics, 'rag_ingest_jobs_total', { outcome: 'retried' }),
      2,
    );
    assert.equal(
      await metricValue(stack.metrics, 'rag_ingest_jobs_total', { outcome: 'completed' }),
      1,
    );
    // pg-boss marks the job completed just after the handler returned.
    await waitFor(
      async () => (await jobsOf(stack!, document.id))[0]?.state === 'completed',
      10_000,
      'the job completed',
    );
    assert.deepEqual(
      (await jobsOf(stack, document.id)).map((j) => j.state),
      ['completed'],
    );
  });

  it('dead-letters a job whose retries are exhausted; retry() re-queues it', async () => {
    stack = await startDataStack(testDb, { retryLimit: 1, retryDelaySeconds: 1 });
    const document = await ingestOne(stack);
    let healthy = false;
    const { handlers } = recordingHandlers(stack, () => !healthy);
    await stack.queue.startWorkers(handlers);

    await waitFor(
      async () =>
        (await stack!.documents.get(document.id, { fromPrimary: true }))?.status === 'dead',
      20_000,
      'document dead',
    );
    await waitFor(
      async () =>
        (await stack!.documents.list(document.collectionKey, { status: 'dead', limit: 10 })).items
          .length === 1,
      5_000,
      'dead document listed (through the replica)',
    );
    const listed = (
      await stack.documents.list(document.collectionKey, { status: 'dead', limit: 10 })
    ).items[0];
    assert.equal(listed.id, document.id);
    assert.equal(listed.attempts, 2, 'first attempt + one retry');
    assert.match(listed.lastError ?? '', /transient failure #2/);
    assert.deepEqual(await stack.queue.depth(), { queued: 0, active: 0, dead: 1 });
    await waitFor(
      async () =>
        (await metricValue(stack!.metrics, 'rag_ingest_queue_jobs', { state: 'dead' })) === 1,
      5_000,
      'queue depth gauge refreshed',
    );
    assert.equal(await metricValue(stack.metrics, 'rag_ingest_jobs_total', { outcome: 'dead' }), 1);

    healthy = true;
    const requeued = await stack.documents.retry(document.id);
    assert.equal(requeued.status, 'queued');
    await waitFor(
      async () =>
        (await stack!.documents.get(document.id, { fromPrimary: true }))?.status === 'indexed',
      10_000,
      'document indexed after retry()',
    );
    // The handler marks the document indexed before it returns; pg-boss completes the job after.
    let depth: unknown;
    await waitFor(
      async () => {
        depth = await stack!.queue.depth();
        return isDeepStrictEqual(depth, { queued: 0, active: 0, dead: 0 });
      },
      10_000,
      'the re-queued job completed',
    ).catch((err: Error) => {
      throw new Error(`${err.message}; depth ${JSON.stringify(depth)}`);
    });
  });

  it('stop() lets an in-flight job finish within the deadline', async () => {
    stack = await startDataStack(testDb);
    const document = await ingestOne(stack);
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let started = false;
    await stack.queue.startWorkers({
      async process(job) {
        started = true;
        await released;
        await stack!.indexing.completeIndexing(job.documentId, job.contentHash, []);
      },
      failed: async () => undefined,
      dead: async () => undefined,
    });
    await waitFor(() => started, 10_000, 'job started');
    const stopping = stack.queue.stop(10_000);
    setTimeout(release, 300);
    await stopping;
    const doc = await stack.documents.get(document.id, { fromPrimary: true });
    assert.equal(doc?.status, 'indexed', 'the in-flight job completed before stop() returned');
    await stack.database.close();
    stack = undefined;
  });

  it("never fails a job whose worker is alive: another process's sweep leaves it active", async () => {
    stack = await startDataStack(testDb);
    const document = await ingestOne(stack);
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let started = false;
    await stack.queue.startWorkers({
      async process(job) {
        started = true;
        await released;
        await stack!.indexing.completeIndexing(job.documentId, job.contentHash, []);
      },
      failed: async () => undefined,
      dead: async () => undefined,
    });
    await waitFor(() => started, 10_000, 'job started');
    const other = new IngestQueue({
      connectionString: testDb.primaryUrl,
      metrics: createMetrics(),
      retryLimit: 2,
      retryDelaySeconds: 1,
      expireSeconds: 30,
      concurrency: 1,
    });
    await other.start();
    try {
      assert.equal(await other.recoverOrphanedJobs(), 0);
      assert.deepEqual(
        (await jobsOf(stack, document.id)).map((j) => j.state),
        ['active'],
      );
    } finally {
      await other.stop(1_000);
    }
    release();
    await waitFor(
      async () =>
        (await stack!.documents.get(document.id, { fromPrimary: true }))?.status === 'indexed',
      10_000,
      'the live worker completes its job',
    );
    // pg-boss marks the job completed just after the handler returned.
    await waitFor(
      async () => (await jobsOf(stack!, document.id))[0]?.state === 'completed',
      10_000,
      'the job completed',
    );
    assert.deepEqual(
      (await jobsOf(stack, document.id)).map((j) => j.state),
      ['completed'],
    );
  });

  describe('a worker killed mid-job', () => {
    const children: ChildProcess[] = [];
    after(() => children.forEach((c) => c.exitCode === null && c.kill('SIGKILL')));

    function startWorker(url: string, lockKey: number) {
      const child = spawn(
        process.execPath,
        [
          '-r',
          'ts-node/register/transpile-only',
          path.join(__dirname, 'fixtures/gated-ingest-worker.ts'),
        ],
        {
          env: {
            ...process.env,
            GATE_DATABASE_URL: url,
            GATE_LOCK_KEY: String(lockKey),
            TS_NODE_TRANSPILE_ONLY: '1',
          },
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      children.push(child);
      const lines: string[] = [];
      createInterface({ input: child.stdout! }).on('line', (l) => lines.push(l));
      return { child, lines };
    }

    it("the next worker to start retries the dead worker's job at once and completes it", async () => {
      // The job's expiry is fixed when it is sent: a long one, so only recovery can explain a
      // prompt retry (pg-boss alone would leave the job active for 5 minutes).
      stack = await startDataStack(testDb, { expireSeconds: 300 });
      const lockKey = 424242;
      const holder = new Client(testDb.primaryUrl);
      await holder.connect();
      try {
        await holder.query('SELECT pg_advisory_lock($1)', [lockKey]);
        const document = await ingestOne(
          stack,
          '# Runbook\n\nRestart the thing.\n\n## Check\n\nIt is up.',
        );

        const first = startWorker(testDb.primaryUrl, lockKey);
        await waitFor(() => first.lines.includes('embedding'), 30_000, 'first worker mid-job');
        first.child.kill('SIGKILL');
        await new Promise((r) => first.child.once('exit', r));
        assert.equal(
          (await stack.documents.get(document.id, { fromPrimary: true }))?.status,
          'indexing',
        );
        assert.deepEqual(
          (await jobsOf(stack, document.id)).map((j) => j.state),
          ['active'],
        );

        await holder.query('SELECT pg_advisory_unlock($1)', [lockKey]);
        const second = startWorker(testDb.primaryUrl, lockKey);
        await waitFor(
          async () =>
            (await stack!.documents.get(document.id, { fromPrimary: true }))?.status === 'indexed',
          30_000,
          'document indexed by the second worker',
        );
        const doc = await stack.documents.get(document.id, { fromPrimary: true });
        assert.equal(doc?.attempts, 2);
        assert.ok(doc!.chunkCount > 0);
        assert.equal((await stack.indexing.getChunkIds(document.id)).length, doc!.chunkCount);
        // pg-boss marks the job completed just after the handler returned, so a moment after the
        // document shows indexed.
        await waitFor(
          async () => (await jobsOf(stack!, document.id))[0]?.state === 'completed',
          10_000,
          'the job completed',
        );
        const jobs = await jobsOf(stack, document.id);
        assert.deepEqual(
          jobs,
          [{ state: 'completed', retryCount: 1 }],
          'retried once, well before its expiry',
        );
        const indexed = second.lines
          .map((l) => l.startsWith('{') && JSON.parse(l))
          .find((e) => e?.type === 'indexed');
        assert.equal(indexed?.chunks, doc!.chunkCount, 'the new worker wrote the vectors too');

        second.child.kill('SIGTERM');
        await new Promise((r) => second.child.once('exit', r));
        assert.equal(second.child.exitCode, 0, 'graceful stop on SIGTERM');
      } finally {
        await holder.end();
      }
    });
  });
});
