// Benchmark: exact search in the in-process vector index at the embedded default's scale.
//   node -r ts-node/register/transpile-only app/bench/vector-search.ts [chunks] [dims]
import { InProcessVectorStore } from '../src/stores/vector/in-process-vector-store';
import { seededRandom, summarize, type LatencySummary } from './bench-stats';

export async function benchVectorSearch(
  chunks = 10_000,
  dimensions = 384,
  searches = 2_000,
): Promise<{
  chunks: number;
  dimensions: number;
  topK: number;
  search: LatencySummary;
  filtered: LatencySummary;
}> {
  const random = seededRandom(42);
  const randomVector = () => Float32Array.from({ length: dimensions }, () => random() * 2 - 1);
  const store = new InProcessVectorStore(dimensions);
  const batch = 500;
  for (let i = 0; i < chunks; i += batch) {
    await store.upsert(
      Array.from({ length: Math.min(batch, chunks - i) }, (_, j) => ({
        id: `chunk-${i + j}`,
        vector: randomVector(),
        payload: {
          collectionId: 'bench',
          documentId: `doc-${(i + j) % 500}`,
          metadata: { team: (i + j) % 2 ? 'sre' : 'data' },
        },
      })),
    );
  }
  const queries = Array.from({ length: 100 }, randomVector);
  const run = async (filter?: { metadata: Record<string, string> }) => {
    for (let i = 0; i < 200; i++)
      await store.search({ collectionId: 'bench', vector: queries[i % 100], topK: 8, filter });
    const samples: number[] = [];
    for (let i = 0; i < searches; i++) {
      const started = performance.now();
      await store.search({ collectionId: 'bench', vector: queries[i % 100], topK: 8, filter });
      samples.push(performance.now() - started);
    }
    return summarize(samples);
  };
  return {
    chunks,
    dimensions,
    topK: 8,
    search: await run(),
    filtered: await run({ metadata: { team: 'sre' } }),
  };
}

if (require.main === module) {
  const [chunks, dims] = process.argv.slice(2).map(Number);
  benchVectorSearch(chunks || undefined, dims || undefined).then((r) =>
    console.log(JSON.stringify(r, null, 2)),
  );
}
