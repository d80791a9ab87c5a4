import { Client } from 'pg';
import { chunkDocument } from '../src/rag/chunking/chunker';
import { seededRandom, syntheticText } from './bench-stats';
import { authHeaders } from '../test/support/test-credential';

// Loads the bench corpus through the public API (POST …/documents → queue → worker → chunk →
// embed → index) and measures ingestion throughput from the first request until the last
// document is indexed: the number an operator sees, queueing included.

export interface IngestionResult {
  readonly documents: number;
  readonly chunks: number;
  readonly seconds: number;
  readonly chunksPerSecond: number;
  /** Time until the last POST was accepted (the API side alone). */
  readonly acceptSeconds: number;
}

export interface BenchDocument {
  readonly source: string;
  readonly title: string;
  readonly content: string;
}

/** Runbook-shaped markdown documents, just enough of them to make at least `targetChunks`. */
export function benchCorpus(
  targetChunks: number,
  chunking: { size: number; overlap: number },
): { documents: BenchDocument[]; chunks: number } {
  const random = seededRandom(11);
  const documents: BenchDocument[] = [];
  let chunks = 0;
  while (chunks < targetChunks) {
    const n = documents.length;
    const sections = Array.from({ length: 6 }, (_, s) => {
      const prose = Array.from({ length: 3 }, () => syntheticText(random, 420)).join('\n\n');
      return `## Step ${s + 1}\n\n${prose}\n`;
    });
    const content = `# Runbook ${n}\n\n${sections.join('\n')}`;
    chunks += chunkDocument(content, {
      mediaType: 'text/markdown',
      size: chunking.size,
      overlap: chunking.overlap,
      documentId: `bench-${n}`,
    }).length;
    documents.push({ source: `bench/runbook-${n}.md`, title: `Runbook ${n}`, content });
  }
  return { documents, chunks };
}

export async function ingestThroughApi(options: {
  baseUrl: string;
  collection: string;
  documents: readonly BenchDocument[];
  /** The service's primary database, where indexing progress is counted. */
  primaryUrl: string;
  concurrency: number;
  timeoutMs: number;
  /** Credentials to send (default: the run's test key, for a service on the development pepper). */
  headers?: Record<string, string>;
}): Promise<IngestionResult> {
  const { baseUrl, collection, documents } = options;
  const db = new Client(options.primaryUrl);
  await db.connect();
  try {
    const started = performance.now();
    let next = 0;
    const post = async () => {
      while (next < documents.length) {
        const doc = documents[next++];
        const res = await fetch(`${baseUrl}/v1/collections/${collection}/documents`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(options.headers ?? authHeaders()) },
          body: JSON.stringify({ ...doc, mediaType: 'text/markdown' }),
        });
        if (res.status !== 202) {
          throw new Error(`ingest ${doc.source}: ${res.status} ${await res.text()}`);
        }
        await res.body?.cancel();
      }
    };
    await Promise.all(Array.from({ length: options.concurrency }, post));
    const acceptSeconds = (performance.now() - started) / 1000;

    const deadline = Date.now() + options.timeoutMs;
    for (;;) {
      const { rows } = await db.query<{ indexed: number; dead: number; chunks: number }>(
        `SELECT count(*) FILTER (WHERE d.status = 'indexed')::int AS indexed,
                count(*) FILTER (WHERE d.status = 'dead')::int AS dead,
                coalesce(sum(d.chunk_count) FILTER (WHERE d.status = 'indexed'), 0)::int AS chunks
           FROM documents d JOIN collections c ON c.id = d.collection_id
          WHERE c.name = $1`,
        [collection],
      );
      const { indexed, dead, chunks } = rows[0];
      if (dead > 0) throw new Error(`${dead} bench documents were dead-lettered`);
      if (indexed === documents.length) {
        const seconds = (performance.now() - started) / 1000;
        return {
          documents: documents.length,
          chunks,
          seconds: round(seconds, 2),
          chunksPerSecond: Math.round(chunks / seconds),
          acceptSeconds: round(acceptSeconds, 2),
        };
      }
      if (Date.now() > deadline) {
        throw new Error(`only ${indexed} of ${documents.length} documents indexed in time`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    await db.end();
  }
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;
