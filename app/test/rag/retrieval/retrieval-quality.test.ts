import assert from 'node:assert/strict';
import { createLogger } from '../../../src/observability/logger';
import { LocalEmbedder } from '../../../src/rag/embedding/local-embedder';
import { HybridRetriever } from '../../../src/rag/retrieval/hybrid-retriever';
import { PostgresLexicalSearch } from '../../../src/stores/postgres/lexical-search-repository';
import { InProcessVectorStore } from '../../../src/stores/vector/in-process-vector-store';
import {
  evaluateRetrieval,
  type EvaluationResult,
} from '../../../bench/retrieval-quality/evaluate';
import { indexRunbooks, type RunbookIndex } from '../../../bench/retrieval-quality/runbook-index';
import { runbookQuestions } from '../../../bench/retrieval-quality/runbook-questions';
import { startDataStack, type DataStack } from '../../stores/postgres/data-stack';
import {
  createTestDatabase,
  waitFor,
  type TestDatabase,
} from '../../stores/postgres/test-database';
import { Client } from 'pg';

// Retrieval quality as a property of the build: the paraphrased on-call questions against the
// real runbooks, real Postgres full text and the in-process vector index with the local embedder
// (the embedded default). Floors, not timings: `npm run bench -- retrieval-quality` reports the
// measured numbers. The hybrid floors sit below hybrid's measured result and above what vector
// search alone reaches, so losing fusion (or lexical search) fails this test.

// Measured on 44 questions (2026-11-30): over 32 runbooks vector only 0.727 / 0.864 and hybrid
// 0.818 / 0.932; over the runbooks of main at 14:50 vector only 0.705 / 0.841, hybrid 0.773 /
// 0.909; after the backup, delivery, canary, SLA and alerting-pipeline procedures and two new
// alert runbooks landed (more documents compete for the same questions) vector only 0.659 / 0.841
// and hybrid 0.705 / 0.886. Each floor sits above vector-only's value, so losing fusion fails
// this test. The last drop came from new documents, not from the retriever (the misses now rank
// the new procedures first); a further drop should be looked at, not the floor lowered.
// With the Vault, secret-rotation, credential-leak and audit-log procedures (45 runbooks): vector
// only 0.659 / 0.818, hybrid 0.705 / 0.886, the long procedures ranked first by lexical search's
// document coverage. Lexical search's per-chunk coordination factor (lexical-search-repository.ts)
// took hybrid to 0.750 / 0.932 (0.773 in some runs: tied lexical scores fall by random chunk
// ids), and the floors rose with it, one question below, so losing that factor fails this test.
const floors = { hitAt1: 0.72, hitAt3: 0.9 };

describe('retrieval quality on the runbook questions (real Postgres)', function () {
  this.timeout(120_000);
  let testDb: TestDatabase;
  let stack: DataStack;
  let index: RunbookIndex;
  const embedder = new LocalEmbedder(384);
  const vectors = new InProcessVectorStore(embedder.dimensions);
  const logger = createLogger({ level: 'silent', service: 'test' });
  const results: Record<string, EvaluationResult> = {};

  before(async () => {
    testDb = await createTestDatabase('retrieval_quality');
    stack = await startDataStack(testDb);
    index = await indexRunbooks({
      db: stack.database,
      collections: stack.collections,
      indexing: stack.indexing,
      embedder,
      vectors,
      metrics: stack.metrics,
      collectionName: 'runbooks-eval',
    });
    // Lexical search reads the replica: a chunk it has not replayed yet would be a false miss.
    const replica = new Client(testDb.replicaUrl);
    await replica.connect();
    try {
      await waitFor(
        async () => {
          const { rows } = await replica.query<{ n: number }>(
            'SELECT count(*)::int AS n FROM chunks WHERE search_vector IS NOT NULL',
          );
          return rows[0].n === index.chunks;
        },
        30_000,
        'chunk rows on the replica',
      );
    } finally {
      await replica.end();
    }
  });
  after(async () => {
    console.log(
      Object.entries(results)
        .map(
          ([mode, r]) =>
            `      ${mode}: hit@1 ${r.hitAt1.toFixed(3)}, hit@3 ${r.hitAt3.toFixed(3)}`,
        )
        .join('\n'),
    );
    await stack?.close();
    await testDb?.drop();
  });

  const evaluate = (lexical: boolean) =>
    evaluateRetrieval({
      retriever: new HybridRetriever({
        vectors,
        lexical: lexical ? new PostgresLexicalSearch(stack.database) : undefined,
        rrfK: 60,
        metrics: stack.metrics,
        logger,
      }),
      embedder,
      index,
      questions: runbookQuestions,
    });

  it('vector search alone stays below the hybrid floors (the floors measure fusion)', async () => {
    results.vector = await evaluate(false);
    // Should vector search alone improve past them, the floors no longer show what fusion adds:
    // measure again and raise them.
    assert.ok(
      results.vector.hitAt3 < floors.hitAt3 && results.vector.hitAt1 < floors.hitAt1,
      `vector only reaches hit@1 ${results.vector.hitAt1}, hit@3 ${results.vector.hitAt3}`,
    );
  });

  it('hybrid retrieval finds the runbook at least as often as the floors', async () => {
    results.hybrid = await evaluate(true);
    const { hitAt1, hitAt3, misses } = results.hybrid;
    assert.ok(
      hitAt1 >= floors.hitAt1 && hitAt3 >= floors.hitAt3,
      `hit@1 ${hitAt1} (floor ${floors.hitAt1}), hit@3 ${hitAt3} (floor ${floors.hitAt3}); ` +
        `misses:\n${misses.map((m) => `${m.expected} ← "${m.question}": ${m.got.join(', ')}`).join('\n')}`,
    );
  });
});
