// `npm run bench -- retrieval-quality`: hit@1 and hit@3 of the runbook questions
// (runbook-questions.ts) before (vector search only) and after (hybrid: vector + Postgres full
// text, reciprocal rank fusion), plus lexical search alone and a sweep of RRF's k, on the real
// Postgres primary + replica (a throwaway database) with the embedded default's vector index and
// local embedder. Then the cost hybrid retrieval adds to an uncached query: lexical search
// latency on the load benchmark's corpus (BENCH_LEXICAL_CHUNKS, default 10,000 chunks of a small
// vocabulary, the worst case for common terms). Writes bench-results/retrieval-quality.json
// (BENCH_RESULTS_PATH overrides).
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createLogger } from '../../src/observability/logger';
import { createMetrics } from '../../src/observability/metrics';
import { LocalEmbedder } from '../../src/rag/embedding/local-embedder';
import { HybridRetriever } from '../../src/rag/retrieval/hybrid-retriever';
import { DEFAULT_RRF_K } from '../../src/rag/retrieval/reciprocal-rank-fusion';
import { CollectionsRepository } from '../../src/stores/postgres/collections-repository';
import { Database } from '../../src/stores/postgres/database';
import { IndexingRepository } from '../../src/stores/postgres/indexing-repository';
import { PostgresLexicalSearch } from '../../src/stores/postgres/lexical-search-repository';
import { migrateLatest } from '../../src/stores/postgres/migrations';
import { InProcessVectorStore } from '../../src/stores/vector/in-process-vector-store';
import type { VectorStore } from '../../src/stores/vector/vector-store';
import { chunkDocument } from '../../src/rag/chunking/chunker';
import { benchCorpus } from '../api-ingestion';
import { acquireBackingServices, createThrowawayDatabase } from '../bench-services';
import { summarize } from '../bench-stats';
import { evaluateRetrieval, type EvaluationResult } from './evaluate';
import { indexRunbooks } from './runbook-index';
import { runbookQuestions } from './runbook-questions';

/** A vector store that finds nothing: fusion with it is lexical search alone. */
const noVectors = { search: async () => [] } as unknown as VectorStore;

export async function runRetrievalQualityBench(): Promise<void> {
  const resultsPath = path.resolve(
    process.env.BENCH_RESULTS_PATH ??
      path.join(__dirname, '../../../bench-results/retrieval-quality.json'),
  );
  const services = await acquireBackingServices();
  const throwaway = await createThrowawayDatabase(services).catch(async (err: unknown) => {
    await services.release();
    throw err;
  });
  const metrics = createMetrics();
  const db = new Database({
    primaryUrl: throwaway.primaryUrl,
    replicaUrls: [throwaway.replicaUrl],
    poolMax: 4,
    statementTimeoutMs: 30_000,
    lockTimeoutMs: 5_000,
    replicaMaxLagSeconds: 5,
    replicaCheckIntervalMs: 1_000,
    metrics,
  });
  try {
    await migrateLatest(db.primary);
    await db.start();
    const embedder = new LocalEmbedder(384);
    const vectors = new InProcessVectorStore(embedder.dimensions);
    const collections = new CollectionsRepository(db);
    const index = await indexRunbooks({
      db,
      collections,
      indexing: new IndexingRepository(db, collections),
      embedder,
      vectors,
      metrics,
      collectionName: 'runbooks',
    });
    // Lexical search reads the replica: let it replay the chunk rows first.
    await throwaway.replicaCaughtUp();
    const logger = createLogger({ level: 'warn', service: 'bench' });
    const lexical = new PostgresLexicalSearch(db);
    const retriever = (v: VectorStore, withLexical: boolean, rrfK = DEFAULT_RRF_K) =>
      new HybridRetriever({
        vectors: v,
        lexical: withLexical ? lexical : undefined,
        rrfK,
        metrics,
        logger,
      });
    const evaluate = (r: HybridRetriever) =>
      evaluateRetrieval({ retriever: r, embedder, index, questions: runbookQuestions });

    const runs: Record<string, EvaluationResult> = {
      'before: vector only': await evaluate(retriever(vectors, false)),
      'lexical only (postgres full text)': await evaluate(retriever(noVectors, true)),
      [`after: hybrid, rrf k=${DEFAULT_RRF_K} (default)`]: await evaluate(retriever(vectors, true)),
    };
    for (const k of [2, 10, 30, 100]) {
      runs[`hybrid, rrf k=${k}`] = await evaluate(retriever(vectors, true, k));
    }
    console.log(
      `retrieval quality: ${runbookQuestions.length} paraphrased questions over ` +
        `${index.sources.size} runbooks (${index.chunks} chunks)\n`,
    );
    console.log('| retrieval | hit@1 | hit@3 |\n| --- | ---: | ---: |');
    for (const [name, r] of Object.entries(runs)) {
      console.log(`| ${name} | ${r.hitAt1.toFixed(3)} | ${r.hitAt3.toFixed(3)} |`);
    }
    const hybrid = runs[`after: hybrid, rrf k=${DEFAULT_RRF_K} (default)`];
    if (hybrid.misses.length) console.log('\nhybrid misses (expected ← question: top three):');
    for (const m of hybrid.misses) {
      console.log(`  ${m.expected} ← "${m.question}": ${m.got.join(', ')}`);
    }
    const latency = await lexicalLatency({
      db,
      collections,
      indexing: new IndexingRepository(db, collections),
      lexical,
      replicaCaughtUp: () => throwaway.replicaCaughtUp(),
    });
    console.log(
      `\nlexical search on ${latency.chunks} bench chunks (${latency.samples} searches from the replica): ` +
        `p50 ${latency.p50Ms.toFixed(1)} ms, p95 ${latency.p95Ms.toFixed(1)} ms, max ${latency.maxMs.toFixed(1)} ms`,
    );
    mkdirSync(path.dirname(resultsPath), { recursive: true });
    writeFileSync(
      resultsPath,
      JSON.stringify(
        {
          questions: runbookQuestions.length,
          runbooks: index.sources.size,
          chunks: index.chunks,
          runs,
          lexicalLatency: latency,
        },
        null,
        2,
      ) + '\n',
    );
    console.log(`\nwrote ${path.relative(process.cwd(), resultsPath)}`);
  } finally {
    await db.close();
    await throwaway.drop();
    await services.release();
  }
}

/** Lexical search latency on the load benchmark's synthetic corpus, as an uncached query runs it. */
async function lexicalLatency(deps: {
  db: Database;
  collections: CollectionsRepository;
  indexing: IndexingRepository;
  lexical: PostgresLexicalSearch;
  replicaCaughtUp: () => Promise<void>;
}) {
  const { db, lexical } = deps;
  const settings = { size: 800, overlap: 120 };
  const target = Number(process.env.BENCH_LEXICAL_CHUNKS ?? 10_000);
  const collection = await deps.collections.create({
    id: 'lexical-latency',
    embeddingModel: 'none',
    dimensions: 8,
  });
  let chunks = 0;
  for (const doc of benchCorpus(target, settings).documents) {
    const hash = createHash('sha256').update(doc.content).digest('hex');
    const [row] = (await db
      .primary('documents')
      .insert({
        collection_id: collection.key,
        source: doc.source,
        title: doc.title,
        media_type: 'text/markdown',
        content: doc.content,
        content_hash: hash,
        size_bytes: Buffer.byteLength(doc.content),
      })
      .returning('id')) as { id: string }[];
    const pieces = chunkDocument(doc.content, {
      mediaType: 'text/markdown',
      documentId: row.id,
      ...settings,
    });
    await deps.indexing.completeIndexing(row.id, hash, pieces);
    chunks += pieces.length;
  }
  // What autovacuum would have done by the time a real collection this size is queried.
  await db.primary.raw('ANALYZE chunks');
  await deps.replicaCaughtUp();
  const questions = [
    ...runbookQuestions.map((q) => q.question),
    'The Postgres primary is down. What do I check first?',
    'replica lag on the wal slot disk',
  ];
  const times: number[] = [];
  for (let round = 0; round < 3; round++) {
    for (const query of questions) {
      const started = performance.now();
      await lexical.search({ collectionKey: collection.key, query, limit: 20 });
      times.push(performance.now() - started);
    }
  }
  return { chunks, ...summarize(times) };
}
