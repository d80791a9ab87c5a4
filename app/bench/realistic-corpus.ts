import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { chunkDocument } from '../src/rag/chunking/chunker';
import { seededRandom } from './bench-stats';

// Realistic text at any scale for the embedded-index benchmark: the repository's own markdown
// (runbooks, READMEs: ~115 KB, a few hundred chunks) chunked as the service chunks it, then grown
// to the target count with variations of those chunks: a window of one chunk's sentences, a
// sentence spliced in from another chunk, on-call synonyms swapped in, and the concrete details
// that differ between incidents (pod names, regions, sizes, durations). Embedded by the service's
// own embedder, these vectors have the distribution the index meets in production — unlike uniform
// random vectors, which have no neighbourhoods and make any index look either perfect or hopeless.
// Questions are paraphrases of sentences of the corpus, as on-call engineers would ask them.

const repoRoot = path.resolve(__dirname, '../..');

const synonyms: readonly (readonly string[])[] = [
  ['restart', 'reboot', 'bounce', 'recycle'],
  ['check', 'inspect', 'verify', 'look at', 'examine'],
  ['disk', 'volume', 'storage'],
  ['slow', 'sluggish', 'laggy', 'degraded'],
  ['error', 'failure', 'fault'],
  ['alert', 'page', 'notification'],
  ['pod', 'container', 'replica'],
  ['queue', 'backlog'],
  ['delete', 'remove', 'drop'],
  ['deploy', 'roll out', 'release', 'ship'],
  ['rollback', 'revert', 'roll back'],
  ['latency', 'response time', 'delay'],
  ['memory', 'RAM', 'heap'],
  ['database', 'Postgres', 'DB'],
  ['cache', 'Redis'],
  ['increase', 'raise', 'bump'],
  ['reduce', 'lower', 'decrease'],
  ['fails', 'breaks', 'crashes'],
  ['run', 'execute'],
  ['wait', 'hold on', 'pause'],
];
const synonymOf = new Map<string, readonly string[]>();
for (const group of synonyms) for (const word of group) synonymOf.set(word.toLowerCase(), group);

const details = [
  () => `pod rag-api-${hex(10)}-${hex(5)}`,
  () => `in ${pick(['eu-west-1', 'us-east-1', 'ap-southeast-2', 'eu-central-1'])}`,
  () => `at ${1 + Math.floor(rand() * 98)}% of its limit`,
  () => `after ${1 + Math.floor(rand() * 59)} minutes`,
  () => `on node ip-10-0-${Math.floor(rand() * 255)}-${Math.floor(rand() * 255)}`,
  () => `for tenant ${pick(['acme', 'globex', 'initech', 'umbrella', 'hooli', 'stark'])}`,
  () => `(${Math.floor(rand() * 900 + 100)} GB used)`,
  () => `since release v1.${Math.floor(rand() * 40)}.${Math.floor(rand() * 10)}`,
];

let rand = seededRandom(2026);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
const hex = (n: number) =>
  Array.from({ length: n }, () => '0123456789abcdef'[Math.floor(rand() * 16)]).join('');

/** The repository's markdown, chunked with the service's defaults. */
export function repositoryChunks(chunking = { size: 800, overlap: 120 }): string[] {
  const files = execFileSync('git', ['ls-files', '*.md'], { cwd: repoRoot, encoding: 'utf8' })
    .split('\n')
    .filter(Boolean)
    .sort();
  return files.flatMap((file, i) =>
    chunkDocument(readFileSync(path.join(repoRoot, file), 'utf8'), {
      mediaType: 'text/markdown',
      size: chunking.size,
      overlap: chunking.overlap,
      documentId: `doc-${i}`,
    }).map((c) => c.text),
  );
}

function sentencesOf(text: string): string[] {
  return text
    .split(/(?<=[.!?:])\s+|\n+/)
    .map((s) => s.trim())
    .filter((s) => s.split(/\s+/).length >= 4);
}

function paraphrase(sentence: string, rate: number): string {
  return sentence
    .split(/(\s+)/)
    .map((token) => {
      const group = synonymOf.get(token.toLowerCase());
      return group && rand() < rate ? pick(group) : token;
    })
    .join('');
}

/**
 * `count` chunk texts: the repository's chunks first, then variations of them. Deterministic.
 */
export function realisticChunks(count: number): string[] {
  rand = seededRandom(2026);
  const base = repositoryChunks();
  const sentences = base.map(sentencesOf).filter((s) => s.length > 0);
  const out = base.slice(0, count);
  while (out.length < count) {
    const own = pick(sentences);
    const start = Math.floor(rand() * own.length);
    const window = own.slice(start, start + 2 + Math.floor(rand() * 5));
    if (rand() < 0.5) {
      window.splice(Math.floor(rand() * (window.length + 1)), 0, pick(pick(sentences)));
    }
    const text = window
      .map((s) => paraphrase(s, 0.3))
      .map((s) => (rand() < 0.4 ? `${s.replace(/[.:]$/, '')} ${pick(details)()}.` : s))
      .join(' ');
    out.push(text);
  }
  return out;
}

/** On-call questions: a few words of a corpus sentence, paraphrased, in a question's frame. */
export function realisticQuestions(count: number, seed = 7): string[] {
  rand = seededRandom(seed);
  // Prose only: a markdown table's row or a line of symbols makes a "question" nothing can answer.
  const sentences = repositoryChunks()
    .flatMap(sentencesOf)
    .filter((s) => !s.includes('|') && (s.match(/\b[a-z]{3,}\b/gi) ?? []).length >= 4);
  const frames = [
    (s: string) => `What should I do when ${s}?`,
    (s: string) => `How do I handle ${s}`,
    (s: string) => `${s} — what now?`,
    (s: string) => `why ${s}`,
    (s: string) => `${s}`,
  ];
  return Array.from({ length: count }, () => {
    const words = paraphrase(pick(sentences), 0.6).split(/\s+/);
    const start = Math.floor(rand() * Math.max(1, words.length - 6));
    const phrase = words.slice(start, start + 4 + Math.floor(rand() * 6)).join(' ');
    return pick(frames)(phrase.replace(/[.:!?]+$/, ''));
  });
}
