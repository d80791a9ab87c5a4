import assert from 'node:assert/strict';
import fc from 'fast-check';
import { InProcessVectorStore } from '../../../src/stores/vector/in-process-vector-store';
import { CONTRACT_DIMENSIONS, vectorStoreContract } from './vector-store.contract';

vectorStoreContract(
  'InProcessVectorStore',
  async () => new InProcessVectorStore(CONTRACT_DIMENSIONS),
  // Its storage is its own memory: close() drops every collection and leaves the store usable.
  (store) => store.close(),
);

// The same contract with every search through the int8 kernel and the float32 rerank (the
// contract's collections are far below the size at which the store switches to it by default).
vectorStoreContract(
  'InProcessVectorStore, int8 kernel',
  async () => new InProcessVectorStore(CONTRACT_DIMENSIONS, { exactBelow: 0 }),
  (store) => store.close(),
);

describe('InProcessVectorStore internals', () => {
  for (const exactBelow of [Infinity, 0]) {
    it(`property: search equals a brute-force ranking after random upserts and deletes (${exactBelow ? 'float32 scan' : 'int8 kernel'})`, async () => {
      const dims = 6;
      const op = fc.oneof(
        fc.record({
          kind: fc.constant('upsert' as const),
          id: fc.integer({ min: 0, max: 30 }),
          doc: fc.integer({ min: 0, max: 4 }),
          vector: fc.array(fc.double({ min: -1, max: 1, noNaN: true }), {
            minLength: dims,
            maxLength: dims,
          }),
        }),
        fc.record({
          kind: fc.constant('delete' as const),
          doc: fc.integer({ min: 0, max: 4 }),
          keep: fc.array(fc.integer({ min: 0, max: 30 }), { maxLength: 3 }),
        }),
      );
      await fc.assert(
        fc.asyncProperty(
          fc.array(op, { maxLength: 60 }),
          fc.array(fc.double({ min: -1, max: 1, noNaN: true }), {
            minLength: dims,
            maxLength: dims,
          }),
          async (ops, query) => {
            fc.pre(query.some((x) => Math.abs(x) > 1e-3));
            const store = new InProcessVectorStore(dims, { exactBelow });
            const model = new Map<string, { doc: string; v: number[] }>();
            for (const o of ops) {
              if (o.kind === 'upsert') {
                if (!o.vector.some((x) => Math.abs(x) > 1e-3)) continue;
                await store.upsert([
                  {
                    id: `p${o.id}`,
                    vector: o.vector,
                    payload: { collectionId: 'c', documentId: `d${o.doc}` },
                  },
                ]);
                model.set(`p${o.id}`, { doc: `d${o.doc}`, v: o.vector });
              } else {
                const keep = o.keep.map((k) => `p${k}`);
                await store.deleteDocument('c', `d${o.doc}`, keep);
                for (const [id, e] of model)
                  if (e.doc === `d${o.doc}` && !keep.includes(id)) model.delete(id);
              }
            }
            const unit = (v: number[]) => {
              const n = Math.hypot(...v);
              return v.map((x) => x / n);
            };
            const q = unit(query);
            const expected = [...model.entries()]
              .map(([id, e]) => ({ id, score: unit(e.v).reduce((s, x, i) => s + x * q[i], 0) }))
              .sort((a, b) => b.score - a.score);
            const hits = await store.search({ collectionId: 'c', vector: query, topK: 5 });
            assert.equal(store.size('c'), model.size);
            assert.equal(hits.length, Math.min(5, model.size));
            hits.forEach((h, i) => {
              assert.ok(Math.abs(h.score - expected[i].score) < 1e-4);
              assert.ok(Math.abs(h.score - expected.find((e) => e.id === h.id)!.score) < 1e-4);
            });
          },
        ),
        { numRuns: 200 },
      );
    });
  }

  it('grows past its initial capacity', async () => {
    const store = new InProcessVectorStore(4);
    await store.upsert(
      Array.from({ length: 1000 }, (_, i) => ({
        id: `p${i}`,
        vector: i === 777 ? [0, 0, 1, 0] : [1, 0, 0, i / 1000],
        payload: { collectionId: 'c', documentId: 'd' },
      })),
    );
    assert.equal(store.size('c'), 1000);
    const [hit] = await store.search({ collectionId: 'c', vector: [0, 0, 1, 0], topK: 1 });
    assert.equal(hit.id, 'p777');
    const [last] = await store.search({ collectionId: 'c', vector: [1, 0, 0, 0.999], topK: 1 });
    assert.equal(last.id, 'p999', 'vectors copied on growth are intact');
  });
});
