// Benchmark: chunker throughput on Markdown documents like the runbooks.
//   node -r ts-node/register/transpile-only app/bench/chunker.ts
import { chunkDocument } from '../src/rag/chunking/chunker';
import { seededRandom, syntheticText } from './bench-stats';

export async function benchChunker(): Promise<{
  documents: number;
  megabytesPerSecond: number;
  chunksPerSecond: number;
}> {
  const random = seededRandom(3);
  const documents = Array.from({ length: 200 }, (_, d) => {
    const sections = Array.from({ length: 8 }, (_, s) => {
      const prose = Array.from({ length: 3 }, () => syntheticText(random, 400)).join('\n\n');
      const code =
        '```sh\nkubectl -n rag get pods\nkubectl -n rag rollout restart deploy/rag-api\n```';
      return `## Section ${s}\n\n${prose}\n\n${code}\n`;
    });
    return `# Runbook ${d}\n\n${sections.join('\n')}`;
  });
  const bytes = documents.reduce((n, d) => n + d.length, 0);
  const options = { mediaType: 'text/markdown' as const, size: 800, overlap: 120 };
  for (const d of documents.slice(0, 20)) chunkDocument(d, { ...options, documentId: 'warm' });
  const started = performance.now();
  let chunks = 0;
  for (const [i, d] of documents.entries()) {
    chunks += chunkDocument(d, { ...options, documentId: `doc-${i}` }).length;
  }
  const seconds = (performance.now() - started) / 1000;
  return {
    documents: documents.length,
    megabytesPerSecond: Math.round((bytes / 1e6 / seconds) * 10) / 10,
    chunksPerSecond: Math.round(chunks / seconds),
  };
}

if (require.main === module) {
  benchChunker().then((r) => console.log(JSON.stringify(r, null, 2)));
}
