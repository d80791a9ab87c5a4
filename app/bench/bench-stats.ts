// Latency summaries for the component benchmarks (nearest-rank percentiles over raw samples).

export interface LatencySummary {
  readonly samples: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

export function summarize(samplesMs: number[]): LatencySummary {
  const sorted = [...samplesMs].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
  const round = (x: number) => Math.round(x * 1000) / 1000;
  return {
    samples: sorted.length,
    p50Ms: round(at(0.5)),
    p95Ms: round(at(0.95)),
    p99Ms: round(at(0.99)),
    maxMs: round(sorted[sorted.length - 1]),
  };
}

/** A reproducible pseudo-random source (mulberry32), so every run benchmarks the same data. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Plausible runbook-like prose of about `chars` characters, deterministic for a given source. */
export function syntheticText(random: () => number, chars: number): string {
  const vocabulary = (
    'postgres replica lag wal slot disk volume redis cache eviction memory pod restart deploy ' +
    'rollback latency error rate queue worker ingestion embedding vector qdrant collection ' +
    'timeout retry alert runbook dashboard metric the a to of and check then when if is on'
  ).split(' ');
  const words: string[] = [];
  let length = 0;
  while (length < chars) {
    const w = vocabulary[Math.floor(random() * vocabulary.length)];
    words.push(random() < 0.08 ? `${w}.` : w);
    length += w.length + 1;
  }
  return words.join(' ').slice(0, chars);
}
