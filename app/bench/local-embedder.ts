// Benchmark: LocalEmbedder throughput on ~800-character chunks and single-query latency.
//   node -r ts-node/register/transpile-only app/bench/local-embedder.ts
import { LocalEmbedder } from '../src/rag/embedding/local-embedder';
import { seededRandom, summarize, syntheticText, type LatencySummary } from './bench-stats';

export async function benchLocalEmbedder(dimensions = 384): Promise<{
  model: string;
  chunkChars: number;
  chunksPerSecond: number;
  query: LatencySummary;
}> {
  const random = seededRandom(7);
  const embedder = new LocalEmbedder(dimensions);
  const chunks = Array.from({ length: 2_000 }, () => syntheticText(random, 800));
  await embedder.embed(chunks.slice(0, 200)); // warm-up
  const started = performance.now();
  for (let i = 0; i < chunks.length; i += 64) await embedder.embed(chunks.slice(i, i + 64));
  const chunksPerSecond = Math.round(chunks.length / ((performance.now() - started) / 1000));

  const questions = Array.from({ length: 1_000 }, () => syntheticText(random, 60));
  const samples: number[] = [];
  for (const q of questions) {
    const t = performance.now();
    await embedder.embed([q]);
    samples.push(performance.now() - t);
  }
  return { model: embedder.model, chunkChars: 800, chunksPerSecond, query: summarize(samples) };
}

if (require.main === module) {
  benchLocalEmbedder().then((r) => console.log(JSON.stringify(r, null, 2)));
}
