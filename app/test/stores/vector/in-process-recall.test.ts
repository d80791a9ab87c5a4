import assert from 'node:assert/strict';
import { realisticChunks, realisticQuestions } from '../../../bench/realistic-corpus';
import { LocalEmbedder } from '../../../src/rag/embedding/local-embedder';
import { InProcessVectorStore } from '../../../src/stores/vector/in-process-vector-store';

// Recall of the in-process index's int8 shortlist + float32 rerank against an exact float32 scan,
// on real text: the repository's markdown and variations of it, embedded by the local embedder (the
// benchmark measures the same at 100,000 chunks). A correctness property, not a timing: the
// approximate search must find (nearly) the same top 10, also after deletes moved vectors around.

describe('InProcessVectorStore recall on realistic text', function () {
  this.timeout(120_000);
  const embedder = new LocalEmbedder(384);
  const chunks = 6_000;
  const texts = realisticChunks(chunks);
  const queries = realisticQuestions(150).map((q) => embedder.embedOne(q));
  const points = texts.map((text, i) => ({
    id: `c${i}`,
    vector: embedder.embedOne(text),
    payload: { collectionId: 'r', documentId: `d${Math.floor(i / 40)}` },
  }));

  async function recallAt10(approximate: InProcessVectorStore, exact: InProcessVectorStore) {
    let sum = 0;
    for (const vector of queries) {
      const truth = await exact.search({ collectionId: 'r', vector, topK: 10 });
      const hits = await approximate.search({ collectionId: 'r', vector, topK: 10 });
      const kth = truth[truth.length - 1].score;
      // Near-duplicate chunks tie: a hit scoring as high as the exact 10th is a correct answer.
      sum += hits.filter((h) => h.score >= kth - 1e-6).length / truth.length;
    }
    return sum / queries.length;
  }

  it('finds the exact top 10 (recall@10 ≥ 0.95), before and after deletes', async () => {
    const approximate = new InProcessVectorStore(384);
    const exact = new InProcessVectorStore(384, { kernel: false });
    for (let i = 0; i < points.length; i += 500) {
      await approximate.upsert(points.slice(i, i + 500));
      await exact.upsert(points.slice(i, i + 500));
    }
    const before = await recallAt10(approximate, exact);
    assert.ok(before >= 0.95, `recall@10 ${before}`);

    // Every third document deleted: removals move the last vectors (float32 and int8) into holes.
    for (let d = 0; d < chunks / 40; d += 3) {
      await approximate.deleteDocument('r', `d${d}`);
      await exact.deleteDocument('r', `d${d}`);
    }
    assert.equal(approximate.size('r'), exact.size('r'));
    const after = await recallAt10(approximate, exact);
    assert.ok(after >= 0.95, `recall@10 after deletes ${after}`);
    const deleted = new Set(Array.from({ length: chunks / 120 }, (_, i) => `d${i * 3}`));
    for (const vector of queries.slice(0, 20)) {
      for (const hit of await approximate.search({ collectionId: 'r', vector, topK: 10 })) {
        assert.ok(!deleted.has(hit.documentId), `${hit.id} of a deleted document returned`);
      }
    }
  });
});
