import type { Answer, Answerer, Citation, Passage } from './answerer';
import { questionTerms, scoreSentences, snippetAround } from './passage-sentences';

// The answerer that needs no model: it quotes the sentences of the retrieved passages that share
// the most terms with the question, each followed by the [n] of the passage it came from. Good
// enough to point an on-call engineer at the right runbook step; it never invents anything.

export interface ExtractiveAnswererOptions {
  /** Passages considered, best first. Default 4. */
  readonly maxPassages?: number;
  /** Sentences quoted in the answer. Default 3. */
  readonly maxSentences?: number;
}

/** Lowest passage score, relative to the best passage's, whose sentences may be quoted. */
const relevanceFloor = 0.75;

export const NO_RELEVANT_PASSAGE =
  'No indexed passage answers this question. Try rephrasing it, or check that the relevant documents were ingested into this collection.';

export class ExtractiveAnswerer implements Answerer {
  readonly kind = 'extractive' as const;
  private readonly maxPassages: number;
  private readonly maxSentences: number;

  constructor(options: ExtractiveAnswererOptions = {}) {
    this.maxPassages = options.maxPassages ?? 4;
    this.maxSentences = options.maxSentences ?? 3;
  }

  async answer(
    input: { question: string; passages: Passage[] },
    signal?: AbortSignal,
  ): Promise<Answer> {
    signal?.throwIfAborted();
    const terms = questionTerms(input.question);
    const best = Math.max(...input.passages.map((p) => p.score), Number.EPSILON);
    // Passages far less similar than the best one share words with the question by accident more
    // often than they answer it: they are not quoted.
    const passages = input.passages
      .slice(0, this.maxPassages)
      .filter((p) => p.score >= best * relevanceFloor);
    const candidates = passages.flatMap((passage, rank) =>
      scoreSentences(passage, terms)
        .filter((s) => s.overlap > 0)
        // The vector store judged the passage as a whole: a sentence from a passage half as
        // similar as the best one needs twice the term overlap to be quoted before it.
        .map((s) => ({
          ...s,
          passage,
          rank,
          weight: (s.overlap * Math.max(passage.score, 0)) / best,
        })),
    );
    if (candidates.length === 0) return { text: NO_RELEVANT_PASSAGE, citations: [] };

    candidates.sort((a, b) => b.weight - a.weight || a.rank - b.rank || a.start - b.start);
    const chosen: typeof candidates = [];
    const seen = new Set<string>();
    for (const c of candidates) {
      const key = c.text.toLowerCase();
      if (seen.has(key)) continue; // the same step quoted from two overlapping chunks
      seen.add(key);
      chosen.push(c);
      if (chosen.length === this.maxSentences) break;
    }

    // Cite each passage once, numbered in order of first use; its snippet surrounds its best sentence.
    const citations: Citation[] = [];
    const numberOf = new Map<Passage, number>();
    for (const c of chosen) {
      if (numberOf.has(c.passage)) continue;
      numberOf.set(c.passage, citations.length + 1);
      citations.push({
        documentId: c.passage.documentId,
        chunkId: c.passage.chunkId,
        score: c.passage.score,
        snippet: snippetAround(c.passage.text, c.start, c.end),
      });
    }
    // Quote in reading order within a passage, passages in citation order.
    chosen.sort((a, b) => numberOf.get(a.passage)! - numberOf.get(b.passage)! || a.start - b.start);
    const text = chosen
      .map((c) => `${withFullStop(c.text)} [${numberOf.get(c.passage)}]`)
      .join(' ');
    return { text, citations };
  }
}

function withFullStop(sentence: string): string {
  return /[.!?:;…]$/.test(sentence) ? sentence : `${sentence}.`;
}
