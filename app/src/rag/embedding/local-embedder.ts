import type { Embedder } from './embedder';

// A deterministic, network-free embedder for the embedded default and tests. It is a bag-of-words
// model by feature hashing: normalized word unigrams and bigrams (topic and phrase) plus character
// trigrams of each word (typos, inflections, identifiers like "pg_wal"), weighted by sublinear term
// frequency, hashed with a sign bit into `dimensions` buckets so collisions cancel on average rather
// than accumulate, then L2-normalized. Texts that share words have high cosine similarity, which is
// what retrieval over runbooks needs; it knows nothing about synonyms.

const UNIGRAM_WEIGHT = 1;
const BIGRAM_WEIGHT = 0.7;
// A word of n letters yields n trigrams: a lower weight keeps spelling from outvoting vocabulary.
const TRIGRAM_WEIGHT = 0.3;

// Words that carry no topic: without this, "how do I ..." questions match each other, not runbooks.
const stopwords = new Set(
  (
    'a an and are as at be but by can could did do does for from had has have how i if in into ' +
    'is it its me my no not of on or our should so than that the their them then there these ' +
    'they this to was we were what when where which who why will with would you your'
  ).split(' '),
);

const TAG_UNIGRAM = 0x9e3779b1;
const TAG_BIGRAM = 0x85ebca6b;
const TAG_TRIGRAM = 0xc2b2ae35;

export class LocalEmbedder implements Embedder {
  readonly model: string;

  constructor(readonly dimensions: number) {
    if (!Number.isInteger(dimensions) || dimensions < 8) {
      throw new RangeError(`dimensions must be an integer ≥ 8, got ${dimensions}`);
    }
    this.model = `local-hash-${dimensions}`;
  }

  async embed(texts: readonly string[], signal?: AbortSignal): Promise<Float32Array[]> {
    signal?.throwIfAborted();
    return texts.map((t) => this.embedOne(t));
  }

  /** Synchronous form, for benchmarks and callers that embed inside a hot loop. */
  embedOne(text: string): Float32Array {
    const words = tokenize(text);
    const unigrams = new Map<number, number>();
    const bigrams = new Map<number, number>();
    const trigrams = new Map<number, number>();
    const count = (features: Map<number, number>, hash: number) =>
      features.set(hash, (features.get(hash) ?? 0) + 1);

    let previous: number | undefined;
    for (const word of words) {
      const h = hashString(word, TAG_UNIGRAM);
      count(unigrams, h);
      if (previous !== undefined) count(bigrams, mix(previous ^ Math.imul(h, 31), TAG_BIGRAM));
      previous = h;
      const padded = `^${word}$`;
      for (let i = 0; i + 3 <= padded.length; i++) {
        count(trigrams, hashRange(padded, i, i + 3, TAG_TRIGRAM));
      }
    }

    const vector = new Float32Array(this.dimensions);
    if (unigrams.size === 0) {
      // No words at all (empty, punctuation only): still a unit vector, and the same one each time.
      vector[hashString(text, TAG_UNIGRAM) % this.dimensions] = 1;
      return vector;
    }
    this.accumulate(vector, unigrams, UNIGRAM_WEIGHT);
    this.accumulate(vector, bigrams, BIGRAM_WEIGHT);
    this.accumulate(vector, trigrams, TRIGRAM_WEIGHT);
    let norm = 0;
    for (let i = 0; i < vector.length; i++) norm += vector[i] * vector[i];
    norm = Math.sqrt(norm);
    if (norm === 0) {
      vector[0] = 1;
      return vector;
    }
    for (let i = 0; i < vector.length; i++) vector[i] /= norm;
    return vector;
  }

  /** Sublinear tf (1 + ln tf): the tenth "restart" in a chunk says less than the first. */
  private accumulate(vector: Float32Array, features: Map<number, number>, weight: number): void {
    for (const [hash, tf] of features) {
      const value = weight * (1 + Math.log(tf));
      // The low bit is the sign; the rest picks the bucket.
      vector[(hash >>> 1) % this.dimensions] += hash & 1 ? value : -value;
    }
  }
}

// eslint-disable-next-line no-control-regex -- every ASCII character, control characters included
const asciiText = /^[\x00-\x7f]*$/;
const asciiWord = /[a-z0-9]+(?:[_'][a-z0-9]+)*/g;
const unicodeWord = /[\p{L}\p{N}]+(?:[_'][\p{L}\p{N}]+)*/gu;

/** Lower-case words of letters and digits, diacritics removed, stopwords dropped, lightly stemmed. */
export function tokenize(text: string): string[] {
  const words: string[] = [];
  // ASCII, most of what runbooks and questions hold, has nothing to decompose or strip, and its
  // letters and digits are a-z and 0-9 once lower-cased: the same words, found without Unicode.
  const isAscii = asciiText.test(text);
  const normalized = (
    isAscii ? text : text.normalize('NFKD').replace(/\p{M}+/gu, '')
  ).toLowerCase();
  for (const match of normalized.matchAll(isAscii ? asciiWord : unicodeWord)) {
    const word = match[0];
    if (stopwords.has(word)) continue;
    words.push(stem(word));
  }
  return words;
}

/** Just enough suffix stripping to make "restarts", "restarted", "restarting" one feature. */
function stem(word: string): string {
  if (word.length > 5 && word.endsWith('ing')) return word.slice(0, -3);
  if (word.length > 4 && word.endsWith('ed')) return word.slice(0, -2);
  if (word.length > 4 && word.endsWith('ies')) return word.slice(0, -3) + 'y';
  if (word.length > 3 && word.endsWith('s') && !word.endsWith('ss')) return word.slice(0, -1);
  return word;
}

function hashString(s: string, seed: number): number {
  return hashRange(s, 0, s.length, seed);
}

/** FNV-1a over UTF-16 code units, finished with murmur3's avalanche so low bits are well mixed. */
function hashRange(s: string, start: number, end: number, seed: number): number {
  let h = 0x811c9dc5 ^ seed;
  for (let i = start; i < end; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return mix(h);
}

function mix(h: number, seed = 0): number {
  h ^= seed;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
