// Reciprocal rank fusion (Cormack, Clarke & Büttcher, SIGIR 2009): a chunk's fused score is
// Σ 1 / (k + rank) over the ranked lists it appears in. It needs only ranks, which is the point:
// a cosine similarity and a BM25-like full-text score live on unrelated scales, and any weighted sum
// of them would have to be re-tuned per corpus and per embedding model.
//
// k = 60 is the constant of the original paper, chosen there on TREC runs and used unchanged by
// Elasticsearch, OpenSearch and Azure AI Search as their default. It damps the head of each list:
// with k = 60 rank 1 scores 1/61 and rank 10 scores 1/70, so one retriever's top hit cannot outvote
// a chunk both retrievers place in their top ten, which is the agreement fusion is meant to reward.
// A small k (Qdrant's built-in RRF uses 2) turns fusion into "whoever ranked it first wins".

export const DEFAULT_RRF_K = 60;

export interface RankedHit {
  readonly id: string;
  readonly documentId: string;
}

export interface FusedHit {
  readonly id: string;
  readonly documentId: string;
  /**
   * The RRF score scaled to 0..1: 1 for a chunk ranked first by every list, 1/n for one ranked
   * first by one list of n. Scaled so that callers comparing passages by their share of the best
   * score (the extractive answerer) see the same range as a cosine similarity.
   */
  readonly score: number;
}

/** Fuses best-first lists; ties keep the order of first appearance (the first list wins). */
export function reciprocalRankFusion(
  lists: readonly (readonly RankedHit[])[],
  k: number = DEFAULT_RRF_K,
): FusedHit[] {
  if (!(k >= 0) || !Number.isFinite(k)) throw new RangeError(`k must be ≥ 0, got ${k}`);
  const fused = new Map<string, { id: string; documentId: string; sum: number; first: number }>();
  let order = 0;
  for (const list of lists) {
    list.forEach((hit, index) => {
      const contribution = 1 / (k + index + 1);
      const entry = fused.get(hit.id);
      if (entry) entry.sum += contribution;
      else
        fused.set(hit.id, {
          id: hit.id,
          documentId: hit.documentId,
          sum: contribution,
          first: order++,
        });
    });
  }
  const best = lists.length / (k + 1);
  return [...fused.values()]
    .sort((a, b) => b.sum - a.sum || a.first - b.first)
    .map((e) => ({ id: e.id, documentId: e.documentId, score: best > 0 ? e.sum / best : 0 }));
}
