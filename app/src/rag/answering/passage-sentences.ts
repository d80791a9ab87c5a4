import { tokenize } from '../embedding/local-embedder';
import type { Passage } from './answerer';

// Sentence-level relevance shared by both answerers: the extractive answerer builds its answer
// from the best sentences, and both build citation snippets around them. Terms are normalized like
// the local embedder's (case, accents, stopwords, light stemming) so "restarting pods" matches
// "restart the pod".

export interface ScoredSentence {
  readonly text: string;
  /** Offsets of the sentence inside the passage text. */
  readonly start: number;
  readonly end: number;
  /** Question terms the sentence (or its headings) contains, weighted; 0 means unrelated. */
  readonly overlap: number;
}

export const SNIPPET_MAX_CHARS = 240;

export function questionTerms(question: string): Set<string> {
  return new Set(tokenize(question));
}

/** Sentences of a passage with their overlap with the question, in passage order. */
export function scoreSentences(passage: Passage, terms: Set<string>): ScoredSentence[] {
  const { headingTerms, sentences } = analyze(passage);
  let headingBonus = 0;
  for (const t of terms) if (headingTerms.has(t)) headingBonus += 0.25;
  return sentences.map(({ text, start, end, words }) => {
    let matched = 0;
    for (const t of terms) if (words.has(t)) matched++;
    // Matching more of the question counts most; long sentences are not rewarded just for length.
    // A sentence under a matching heading is relevant even in its own words ("Drop the slot."
    // under "Disk full"), but ranks below sentences that match by themselves.
    const overlap =
      matched === 0 ? headingBonus / 2 : matched / Math.sqrt(1 + words.size / 8) + headingBonus;
    return { text, start, end, overlap };
  });
}

interface AnalyzedPassage {
  readonly headingTerms: ReadonlySet<string>;
  readonly sentences: readonly {
    readonly text: string;
    readonly start: number;
    readonly end: number;
    /** Its distinct terms. */
    readonly words: ReadonlySet<string>;
  }[];
}

/**
 * Passages analysed lately. Splitting, cleaning and tokenizing a passage depends on the passage
 * alone and was most of an uncached answer's cost (about 0.5 ms), while the same runbook
 * passages answer question after question; scoring against a question is then a few set lookups.
 */
const ANALYZED_PASSAGES = 1_000;
const analyzed = new Map<string, AnalyzedPassage>();

function analyze(passage: Passage): AnalyzedPassage {
  const headings = [passage.title ?? '', ...passage.headingPath].join('\n');
  // Keyed by the content itself: a passage's id says nothing about its text outside a store.
  const key = `${headings}\u0000${passage.text}`;
  const known = analyzed.get(key);
  if (known) {
    // Most recently used last, so the first entry is the one to evict.
    analyzed.delete(key);
    analyzed.set(key, known);
    return known;
  }
  const result: AnalyzedPassage = {
    headingTerms: new Set(tokenize(headings)),
    sentences: sentenceRanges(passage.text).flatMap(({ start, end }) => {
      const text = cleanMarkdown(passage.text.slice(start, end));
      return /[\p{L}\p{N}]/u.test(text)
        ? [{ text, start, end, words: new Set(tokenize(text)) }]
        : [];
    }),
  };
  analyzed.set(key, result);
  if (analyzed.size > ANALYZED_PASSAGES) analyzed.delete(analyzed.keys().next().value!);
  return result;
}

const sentenceEnd = new Set(['.', '!', '?']);
const sentenceCloser = new Set(['"', "'", '”', '’', ')', ']']);

/**
 * Sentence ends (a run of . ! ? and closing quotes/brackets followed by whitespace), line breaks
 * (list items, code lines) and blank lines delimit sentences. One forward scan: the equivalent
 * regular expression backtracks over a long run of periods from each of its positions.
 */
function sentenceRanges(text: string): { start: number; end: number }[] {
  const ranges: { start: number; end: number }[] = [];
  let start = 0;
  const boundary = (end: number) => {
    if (end > start) ranges.push({ start, end });
    start = end;
  };
  let i = 0;
  while (i < text.length) {
    if (text[i] === '\n') {
      boundary(++i);
      continue;
    }
    if (!sentenceEnd.has(text[i])) {
      i++;
      continue;
    }
    while (i < text.length && sentenceEnd.has(text[i])) i++;
    while (i < text.length && sentenceCloser.has(text[i])) i++;
    if (i < text.length && /\s/.test(text[i])) boundary(i);
  }
  if (start < text.length) ranges.push({ start, end: text.length });
  return ranges
    .map((r) => trimRange(text, r))
    .filter((r): r is { start: number; end: number } => r !== undefined);
}

function trimRange(text: string, r: { start: number; end: number }) {
  let { start, end } = r;
  while (start < end && /\s/.test(text[start])) start++;
  while (end > start && /\s/.test(text[end - 1])) end--;
  return start < end ? { start, end } : undefined;
}

/** Drops Markdown syntax that reads badly in an answer: heading marks, bullets, fences, quotes. */
export function cleanMarkdown(line: string): string {
  return line
    .replace(/^\s*(?:#{1,6}\s+|[-*+]\s+(?:\[[ xX]\]\s+)?|\d+[.)]\s+|>\s*)/, '')
    .replace(/^\s*(?:```|~~~).*$/, '')
    .replace(/\*\*(.+?)\*\*/g, '$1')
    .trim();
}

/**
 * At most SNIPPET_MAX_CHARS of the passage around the given range, cut at word boundaries, with
 * an ellipsis where text was left out.
 */
export function snippetAround(text: string, start: number, end: number): string {
  const max = SNIPPET_MAX_CHARS;
  const flat = (s: string) => s.replace(/\s+/g, ' ').trim();
  if (end - start >= max - 1) {
    const cut = text.slice(start, start + max - 1);
    const lastSpace = cut.lastIndexOf(' ');
    return flat(cut.slice(0, lastSpace > max / 2 ? lastSpace : cut.length)) + '…';
  }
  const spare = max - 2 - (end - start);
  let from = Math.max(0, start - Math.floor(spare / 2));
  let to = Math.min(text.length, from + (end - start) + spare);
  from = Math.max(0, Math.min(from, to - (max - 2)));
  if (from > 0) {
    const space = text.indexOf(' ', from);
    if (space !== -1 && space < start) from = space + 1;
  }
  if (to < text.length) {
    const space = text.lastIndexOf(' ', to);
    if (space > end) to = space;
  }
  return `${from > 0 ? '…' : ''}${flat(text.slice(from, to))}${to < text.length ? '…' : ''}`;
}

/** Snippet around the passage's sentence that best matches the question (its start if none). */
export function bestSnippet(passage: Passage, terms: Set<string>): string {
  const sentences = scoreSentences(passage, terms);
  const best = sentences.reduce<ScoredSentence | undefined>(
    (b, s) => (!b || s.overlap > b.overlap ? s : b),
    undefined,
  );
  return best
    ? snippetAround(passage.text, best.start, best.end)
    : snippetAround(passage.text, 0, 0);
}
