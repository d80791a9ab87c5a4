import type { Embedder } from '../../src/rag/embedding/embedder';
import type { HybridRetriever } from '../../src/rag/retrieval/hybrid-retriever';
import type { RunbookIndex } from './runbook-index';
import type { EvaluationQuestion } from './runbook-questions';

// hit@k over documents: a question scores at k when its runbook is among the first k distinct
// documents the retriever's chunks come from (an answer cites chunks, a person opens a runbook).

export interface EvaluationResult {
  readonly questions: number;
  readonly hitAt1: number;
  readonly hitAt3: number;
  /** Questions whose runbook was not in the top three, with what came first instead. */
  readonly misses: readonly { question: string; expected: string; got: string[] }[];
}

/** Chunks fetched per question: deep enough to find three distinct runbooks. */
const chunksPerQuestion = 10;

export async function evaluateRetrieval(deps: {
  retriever: HybridRetriever;
  embedder: Embedder;
  index: RunbookIndex;
  questions: readonly EvaluationQuestion[];
}): Promise<EvaluationResult> {
  const { retriever, embedder, index, questions } = deps;
  let hitAt1 = 0;
  let hitAt3 = 0;
  const misses: { question: string; expected: string; got: string[] }[] = [];
  for (const { question, expected } of questions) {
    const [vector] = await embedder.embed([question]);
    const { hits } = await retriever.retrieve({
      collectionKey: index.collectionKey,
      query: question,
      vector,
      topK: chunksPerQuestion,
    });
    const ranked = [...new Set(hits.map((h) => index.sources.get(h.documentId) ?? h.documentId))];
    if (ranked[0] === expected) hitAt1 += 1;
    if (ranked.slice(0, 3).includes(expected)) hitAt3 += 1;
    else misses.push({ question, expected, got: ranked.slice(0, 3) });
  }
  return {
    questions: questions.length,
    hitAt1: hitAt1 / questions.length,
    hitAt3: hitAt3 / questions.length,
    misses,
  };
}
