import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { createMetrics } from '../src/observability/metrics';
import { chunkDocument } from '../src/rag/chunking/chunker';
import { LocalEmbedder } from '../src/rag/embedding/local-embedder';
import { IngestionWorker } from '../src/rag/ingestion/ingestion-worker';
import { CollectionsRepository } from '../src/stores/postgres/collections-repository';
import { Database } from '../src/stores/postgres/database';
import { DocumentsRepository } from '../src/stores/postgres/documents-repository';
import { IndexingRepository } from '../src/stores/postgres/indexing-repository';
import { startEmbeddedPostgres } from '../src/stores/postgres/embedded-postgres';
import { migrateLatest } from '../src/stores/postgres/migrations';
import { IngestQueue } from '../src/stores/queue/ingest-queue';
import { InProcessVectorStore } from '../src/stores/vector/in-process-vector-store';

// Ingestion throughput (chunks/s) with the local embedder and the in-process vector store, through
// the real path: repository ingest (row + job in one transaction) → pg-boss → worker → chunk →
// embed → upsert → chunk rows + status. Runs on DATABASE_URL's server (a throwaway database) or,
// unset, on an embedded Postgres.
//   node -r ts-node/register/transpile-only app/bench/ingestion.ts [documents=200] [concurrency=2]

const documentsToIngest = Number(process.argv[2] ?? 200);
const concurrency = Number(process.argv[3] ?? 2);
const dims = 384;
const chunkSize = 800;
const chunkOverlap = 120;

const words =
  'replica lag alert pager primary failover disk volume latency queue worker retry backoff cache redis postgres vector index embedding chunk request timeout budget error rate saturation'.split(
    ' ',
  );

function syntheticDocument(i: number): string {
  let seed = i * 7919 + 1;
  const next = () => (seed = (seed * 48271) % 2147483647);
  const sentence = () =>
    Array.from({ length: 12 + (next() % 10) }, () => words[next() % words.length]).join(' ') + '.';
  const sections: string[] = [`# Runbook ${i}`];
  for (let s = 0; s < 6; s++) {
    sections.push(`## Section ${s}`);
    for (let p = 0; p < 3; p++) sections.push(Array.from({ length: 5 }, sentence).join(' '));
  }
  return sections.join('\n\n');
}

async function main() {
  let serverUrl = process.env.DATABASE_URL;
  const embedded = serverUrl
    ? undefined
    : await startEmbeddedPostgres({ dataDir: '.data/bench-postgres', port: 54339 });
  serverUrl ??= embedded!.url;
  const admin = new URL(serverUrl);
  const dbName = `bench_ingest_${randomBytes(4).toString('hex')}`;
  admin.pathname = '/postgres';
  const adminClient = new Client(admin.toString());
  await adminClient.connect();
  await adminClient.query(`CREATE DATABASE ${dbName}`);
  const url = new URL(serverUrl);
  url.pathname = `/${dbName}`;

  const metrics = createMetrics();
  const database = new Database({
    primaryUrl: url.toString(),
    poolMax: 10,
    statementTimeoutMs: 30_000,
    lockTimeoutMs: 5_000,
    replicaMaxLagSeconds: 5,
    replicaCheckIntervalMs: 1_000,
    metrics,
  });
  const queue = new IngestQueue({
    connectionString: url.toString(),
    metrics,
    retryLimit: 2,
    retryDelaySeconds: 1,
    expireSeconds: 300,
    concurrency,
    pollingIntervalSeconds: 0.5,
  });
  try {
    await migrateLatest(database.primary);
    await database.start();
    await queue.start();
    const collections = new CollectionsRepository(database);
    const documents = new DocumentsRepository(database, collections, queue);
    const embedder = new LocalEmbedder(dims);
    const vectors = new InProcessVectorStore(dims);
    await vectors.ensureReady();
    const worker = new IngestionWorker({
      indexing: new IndexingRepository(database, collections),
      embedder,
      vectors,
      chunk: chunkDocument,
      chunkSize,
      chunkOverlap,
      embedBatchSize: 64,
      metrics,
    });
    const collection = await collections.create({
      id: 'bench',
      embeddingModel: embedder.model,
      dimensions: dims,
    });
    const texts = Array.from({ length: documentsToIngest }, (_, i) => syntheticDocument(i));

    // 1. Through the queue: accepted → searchable for the whole batch.
    await queue.startWorkers(worker);
    const started = performance.now();
    for (let i = 0; i < texts.length; i++) {
      await documents.ingest(collection.key, {
        source: `doc-${i}`,
        mediaType: 'text/markdown',
        content: texts[i],
      });
    }
    const acceptedMs = performance.now() - started;
    for (;;) {
      const { rows } = await database.primary.raw(
        "SELECT count(*) FILTER (WHERE status = 'indexed')::int AS done, coalesce(sum(chunk_count), 0)::int AS chunks FROM documents",
      );
      if (rows[0].done === texts.length) {
        const seconds = (performance.now() - started) / 1000;
        console.log(
          `queue path: ${texts.length} documents, ${rows[0].chunks} chunks in ${seconds.toFixed(2)} s ` +
            `→ ${(rows[0].chunks / seconds).toFixed(0)} chunks/s, ${(texts.length / seconds).toFixed(1)} docs/s ` +
            `(concurrency ${concurrency}; ingest calls took ${acceptedMs.toFixed(0)} ms, ` +
            `${(acceptedMs / texts.length).toFixed(2)} ms each)`,
        );
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }

    // 2. The worker pipeline alone (no queue latency): re-index every document in sequence.
    const ids = (await database.primary('documents').select('id', 'content_hash')) as {
      id: string;
      content_hash: string;
    }[];
    const t2 = performance.now();
    for (const d of ids) await worker.process({ documentId: d.id, contentHash: d.content_hash });
    const seconds2 = (performance.now() - t2) / 1000;
    const { rows } = await database.primary.raw('SELECT count(*)::int AS n FROM chunks');
    console.log(
      `pipeline only (sequential): ${rows[0].n} chunks in ${seconds2.toFixed(2)} s → ${(rows[0].n / seconds2).toFixed(0)} chunks/s`,
    );
  } finally {
    await queue.stop(5_000).catch(() => undefined);
    await database.close();
    await adminClient.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await adminClient.end();
    await embedded?.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
