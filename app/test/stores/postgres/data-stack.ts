import type { Metrics } from '../../../src/observability/metrics';
import { CollectionsRepository } from '../../../src/stores/postgres/collections-repository';
import { Database } from '../../../src/stores/postgres/database';
import { ChunksRepository } from '../../../src/stores/postgres/chunks-repository';
import { DocumentsRepository } from '../../../src/stores/postgres/documents-repository';
import { IndexingRepository } from '../../../src/stores/postgres/indexing-repository';
import { migrateLatest } from '../../../src/stores/postgres/migrations';
import { IngestQueue, type IngestQueueOptions } from '../../../src/stores/queue/ingest-queue';
import { Client } from 'pg';
import { testMetrics, waitFor, type TestDatabase } from './test-database';

// The data layer wired as the service wires it, on a suite's private database, with queue timings
// short enough for tests to watch retries and expiries happen.

export interface DataStack {
  readonly metrics: Metrics;
  readonly database: Database;
  readonly queue: IngestQueue;
  readonly collections: CollectionsRepository;
  readonly documents: DocumentsRepository;
  readonly indexing: IndexingRepository;
  readonly chunks: ChunksRepository;
  close(): Promise<void>;
}

export async function startDataStack(
  testDb: TestDatabase,
  queueOverrides: Partial<IngestQueueOptions> = {},
): Promise<DataStack> {
  const metrics = queueOverrides.metrics ?? testMetrics();
  const database = new Database({
    primaryUrl: testDb.primaryUrl,
    replicaUrls: [testDb.replicaUrl],
    poolMax: 5,
    statementTimeoutMs: 5_000,
    lockTimeoutMs: 2_000,
    replicaMaxLagSeconds: 5,
    replicaCheckIntervalMs: 200,
    metrics,
  });
  await migrateLatest(database.primary);
  // Tests read through the replica from their first line: let it replay the schema first.
  await waitFor(
    async () => {
      const c = new Client(testDb.replicaUrl);
      try {
        await c.connect();
        const { rows } = await c.query("SELECT to_regclass('pgboss.version') IS NOT NULL AS ok");
        return rows[0].ok === true;
      } finally {
        await c.end();
      }
    },
    10_000,
    'schema on the replica',
  );
  await database.start();
  const queue = new IngestQueue({
    connectionString: testDb.primaryUrl,
    metrics,
    retryLimit: 2,
    retryDelaySeconds: 1,
    expireSeconds: 30,
    concurrency: 2,
    maintenanceIntervalSeconds: 1,
    pollingIntervalSeconds: 0.5,
    depthRefreshIntervalMs: 200,
    ...queueOverrides,
  });
  await queue.start();
  const collections = new CollectionsRepository(database);
  const documents = new DocumentsRepository(database, collections, queue);
  return {
    metrics,
    database,
    queue,
    collections,
    documents,
    indexing: new IndexingRepository(database, collections),
    chunks: new ChunksRepository(database),
    close: async () => {
      await queue.stop(2_000);
      await database.close();
    },
  };
}

export async function jobsOf(stack: DataStack, documentId: string) {
  const { rows } = await stack.database.primary.raw(
    `SELECT state::text AS state, retry_count AS "retryCount" FROM pgboss.job
      WHERE name = 'ingest' AND data->>'documentId' = ? ORDER BY created_on`,
    [documentId],
  );
  return rows as { state: string; retryCount: number }[];
}
