// Text → sparse vector for Qdrant's lexical search: one dimension per term (a 32-bit hash of the
// lower-cased, diacritic-free, lightly stemmed word), valued by sublinear term frequency. Qdrant
// multiplies in the inverse document frequency itself (the sparse vector's `modifier: idf`), so
// together they score like BM25 without document-length normalisation.
//
// Deliberately independent of the local embedder's tokenizer: these term ids are stored with
// every point, and a change here silently stops old points from matching new queries until they
// are re-ingested. Change it only together with a re-ingest (runbooks/procedures/re-embedding.md).

const stopwords = new Set(
  (
    'a an and are as at be but by can could did do does for from had has have how i if in into ' +
    'is it its me my no not of on or our should so than that the their them then there these ' +
    'they this to was we were what when where which who why will with would you your'
  ).split(' '),
);

export interface SparseVector {
  readonly indices: number[];
  readonly values: number[];
}

export function sparseTerms(text: string): SparseVector {
  const counts = new Map<number, number>();
  const normalized = text
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase();
  for (const match of normalized.matchAll(/[\p{L}\p{N}]+(?:[_'][\p{L}\p{N}]+)*/gu)) {
    if (stopwords.has(match[0])) continue;
    const id = fnv1a(stem(match[0]));
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  // Qdrant wants each index once; sorted keeps requests deterministic (and diffable in tests).
  const indices = [...counts.keys()].sort((a, b) => a - b);
  return { indices, values: indices.map((i) => 1 + Math.log(counts.get(i)!)) };
}

function stem(word: string): string {
  if (word.length > 5 && word.endsWith('ing')) return word.slice(0, -3);
  if (word.length > 4 && word.endsWith('ed')) return word.slice(0, -2);
  if (word.length > 4 && word.endsWith('ies')) return word.slice(0, -3) + 'y';
  if (word.length > 3 && word.endsWith('s') && !word.endsWith('ss')) return word.slice(0, -1);
  return word;
}

/** FNV-1a over UTF-16 code units: a stable uint32, which is the range Qdrant's indices take. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
