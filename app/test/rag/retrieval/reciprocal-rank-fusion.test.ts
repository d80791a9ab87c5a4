import assert from 'node:assert/strict';
import { reciprocalRankFusion } from '../../../src/rag/retrieval/reciprocal-rank-fusion';

const hit = (id: string) => ({ id, documentId: `doc-${id}` });

describe('reciprocal rank fusion', () => {
  it('ranks a chunk both lists agree on above either list’s lone top hit', () => {
    const vector = [hit('v1'), hit('both'), hit('v3')];
    const lexical = [hit('l1'), hit('both'), hit('l3')];
    const fused = reciprocalRankFusion([vector, lexical], 60);
    assert.equal(fused[0].id, 'both');
    assert.deepEqual(
      fused.map((f) => f.id),
      ['both', 'v1', 'l1', 'v3', 'l3'],
    );
    assert.equal(fused[0].documentId, 'doc-both');
  });

  it('scores by Σ 1/(k + rank), scaled so first in every list is 1', () => {
    const fused = reciprocalRankFusion([[hit('a'), hit('b')], [hit('a')]], 60);
    assert.equal(fused[0].score, 1);
    const b = fused.find((f) => f.id === 'b')!;
    assert.ok(Math.abs(b.score - 1 / 62 / (2 / 61)) < 1e-12, String(b.score));
  });

  it('with a small k one list’s top hit outvotes agreement lower down', () => {
    const vector = [hit('v1'), hit('x'), hit('both')];
    const lexical = [hit('l1'), hit('y'), hit('both')];
    assert.equal(reciprocalRankFusion([vector, lexical], 0)[0].id, 'v1');
    assert.equal(reciprocalRankFusion([vector, lexical], 60)[0].id, 'both');
  });

  it('keeps one list unchanged, and an empty list changes nothing', () => {
    const only = [hit('a'), hit('b'), hit('c')];
    assert.deepEqual(
      reciprocalRankFusion([only, []]).map((f) => f.id),
      ['a', 'b', 'c'],
    );
    assert.deepEqual(reciprocalRankFusion([[], []]), []);
  });

  it('rejects a negative or non-finite k', () => {
    assert.throws(() => reciprocalRankFusion([[hit('a')]], -1), RangeError);
    assert.throws(() => reciprocalRankFusion([[hit('a')]], Number.NaN), RangeError);
  });
});
