import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import type { VectorPoint, VectorStore } from '../../../src/stores/vector/vector-store';

export const CONTRACT_DIMENSIONS = 8;

/** A deterministic unit-ish vector pointing mostly along `axis`, with a little of `tilt`. */
function vec(axis: number, tilt = 0, tiltAxis = (axis + 1) % CONTRACT_DIMENSIONS): number[] {
  const v = new Array<number>(CONTRACT_DIMENSIONS).fill(0);
  v[axis] = 1;
  v[tiltAxis] += tilt;
  return v;
}

/** UUID-shaped ids, as the chunker produces: Qdrant accepts nothing else as a string id. */
function id(label: string): string {
  const h = createHash('sha256').update(label).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * Behaviour every VectorStore must have. `create` returns a ready store of CONTRACT_DIMENSIONS
 * dimensions; tests use fresh random collection ids, so a shared backend is fine. `loseStorage`
 * destroys what the store keeps its vectors in, behind its back (for Qdrant: deletes the Qdrant
 * collection, as an operator or a fresh volume would).
 */
export function vectorStoreContract(
  name: string,
  create: () => Promise<VectorStore>,
  loseStorage: (store: VectorStore) => Promise<void>,
): void {
  describe(`${name} (vector store contract)`, () => {
    let store: VectorStore;
    let tenantA: string;
    let tenantB: string;

    const point = (
      label: string,
      collectionId: string,
      documentId: string,
      vector: number[],
      metadata?: Record<string, string>,
    ): VectorPoint => ({
      id: id(`${collectionId}/${label}`),
      vector,
      payload: { collectionId, documentId, metadata },
    });
    const ids = (hits: { id: string }[]) => hits.map((h) => h.id);
    const p = (collectionId: string, label: string) => id(`${collectionId}/${label}`);

    beforeEach(async () => {
      store = await create();
      await store.ensureReady();
      tenantA = `a-${randomUUID()}`;
      tenantB = `b-${randomUUID()}`;
    });
    afterEach(async () => {
      await store.deleteCollection(tenantA);
      await store.deleteCollection(tenantB);
      await store.close();
    });

    it('ranks by cosine similarity, best first, with scores in [-1, 1]', async () => {
      await store.upsert([
        point('far', tenantA, 'd1', vec(3)),
        point('near', tenantA, 'd1', vec(0, 0.1)),
        point('mid', tenantA, 'd2', vec(0, 1)),
      ]);
      const hits = await store.search({ collectionId: tenantA, vector: vec(0), topK: 3 });
      assert.deepEqual(ids(hits), [p(tenantA, 'near'), p(tenantA, 'mid'), p(tenantA, 'far')]);
      assert.deepEqual(
        hits.map((h) => h.documentId),
        ['d1', 'd2', 'd1'],
      );
      assert.ok(Math.abs(hits[0].score - 1 / Math.sqrt(1.01)) < 1e-4, `score ${hits[0].score}`);
      assert.ok(Math.abs(hits[1].score - Math.SQRT1_2) < 1e-4);
      assert.ok(Math.abs(hits[2].score) < 1e-4);
    });

    it('returns at most topK hits and nothing for an unknown collection', async () => {
      await store.upsert(
        Array.from({ length: 10 }, (_, i) => point(`p${i}`, tenantA, 'd', vec(i % 8, i / 10))),
      );
      assert.equal(
        (await store.search({ collectionId: tenantA, vector: vec(0), topK: 4 })).length,
        4,
      );
      assert.equal(
        (await store.search({ collectionId: tenantA, vector: vec(0), topK: 50 })).length,
        10,
      );
      assert.deepEqual(
        await store.search({ collectionId: `none-${randomUUID()}`, vector: vec(0), topK: 5 }),
        [],
      );
      await assert.rejects(
        store.search({ collectionId: tenantA, vector: vec(0), topK: 0 }),
        RangeError,
      );
    });

    it('isolates collections (tenants) from each other', async () => {
      await store.upsert([point('x', tenantA, 'd', vec(1)), point('y', tenantB, 'd', vec(1))]);
      assert.deepEqual(
        ids(await store.search({ collectionId: tenantA, vector: vec(1), topK: 10 })),
        [p(tenantA, 'x')],
      );
      assert.deepEqual(
        ids(await store.search({ collectionId: tenantB, vector: vec(1), topK: 10 })),
        [p(tenantB, 'y')],
      );
    });

    it('filters by document ids and by metadata, all conditions together', async () => {
      await store.upsert([
        point('1', tenantA, 'd1', vec(2), { team: 'sre', env: 'prod' }),
        point('2', tenantA, 'd2', vec(2, 0.1), { team: 'sre', env: 'dev' }),
        point('3', tenantA, 'd3', vec(2, 0.2), { team: 'data', env: 'prod' }),
        point('4', tenantA, 'd3', vec(2, 0.3)),
      ]);
      const search = (filter: object) =>
        store.search({ collectionId: tenantA, vector: vec(2), topK: 10, filter }).then(ids);
      assert.deepEqual(await search({ documentIds: ['d2', 'd3'] }), [
        p(tenantA, '2'),
        p(tenantA, '3'),
        p(tenantA, '4'),
      ]);
      assert.deepEqual(await search({ metadata: { team: 'sre' } }), [
        p(tenantA, '1'),
        p(tenantA, '2'),
      ]);
      assert.deepEqual(await search({ metadata: { team: 'sre', env: 'prod' } }), [p(tenantA, '1')]);
      assert.deepEqual(await search({ documentIds: ['d3'], metadata: { env: 'prod' } }), [
        p(tenantA, '3'),
      ]);
      assert.deepEqual(await search({ metadata: { team: 'nobody' } }), []);
      assert.deepEqual(await search({ documentIds: [] }), []);
    });

    it('filters on every metadata key the API accepts as one literal key, dots included', async () => {
      // The API's key pattern is [A-Za-z0-9_.-]{1,64}: a '.' is part of the key, never a path.
      const keys = ['a.b', '.a', 'a.', 'a..b', '.', '-', '_', '9', 'a', 'A-b_c.D9', 'x'.repeat(64)];
      await store.upsert([
        ...keys.map((key, i) => point(`k${i}`, tenantA, 'd', vec(3, i / 100), { [key]: 'v' })),
        point('nested-lookalike', tenantA, 'd', vec(3, 0.5), { a: 'b', b: 'v' }),
      ]);
      for (const [i, key] of keys.entries()) {
        assert.deepEqual(
          ids(
            await store.search({
              collectionId: tenantA,
              vector: vec(3),
              topK: 20,
              filter: { metadata: { [key]: 'v' } },
            }),
          ),
          [p(tenantA, `k${i}`)],
          `filter on metadata key ${JSON.stringify(key)}`,
        );
      }
    });

    it('works again after its storage disappeared behind its back, without a restart', async () => {
      await store.upsert([point('before', tenantA, 'd1', vec(2))]);
      await loseStorage(store);
      assert.deepEqual(await store.search({ collectionId: tenantA, vector: vec(2), topK: 5 }), []);
      await loseStorage(store);
      await store.deleteDocument(tenantA, 'd1');
      await loseStorage(store);
      await store.upsert([point('after', tenantA, 'd2', vec(2))]);
      assert.deepEqual(
        ids(await store.search({ collectionId: tenantA, vector: vec(2), topK: 5 })),
        [p(tenantA, 'after')],
      );
      await loseStorage(store);
      await store.deleteCollection(tenantA);
    });

    it('deleteDocument removes a document’s points except the kept ids, and nothing else', async () => {
      await store.upsert([
        point('old', tenantA, 'd1', vec(4)),
        point('kept', tenantA, 'd1', vec(4, 0.1)),
        point('other', tenantA, 'd2', vec(4, 0.2)),
        point('same-doc-other-tenant', tenantB, 'd1', vec(4)),
      ]);
      await store.deleteDocument(tenantA, 'd1', [p(tenantA, 'kept')]);
      assert.deepEqual(
        ids(await store.search({ collectionId: tenantA, vector: vec(4), topK: 10 })),
        [p(tenantA, 'kept'), p(tenantA, 'other')],
      );
      await store.deleteDocument(tenantA, 'd1');
      assert.deepEqual(
        ids(await store.search({ collectionId: tenantA, vector: vec(4), topK: 10 })),
        [p(tenantA, 'other')],
      );
      assert.equal(
        (await store.search({ collectionId: tenantB, vector: vec(4), topK: 10 })).length,
        1,
      );
      await store.deleteDocument(tenantA, 'never-existed');
    });

    it('deleteCollection removes every point of that collection only', async () => {
      await store.upsert([point('x', tenantA, 'd', vec(5)), point('y', tenantB, 'd', vec(5))]);
      await store.deleteCollection(tenantA);
      assert.deepEqual(await store.search({ collectionId: tenantA, vector: vec(5), topK: 10 }), []);
      assert.equal(
        (await store.search({ collectionId: tenantB, vector: vec(5), topK: 10 })).length,
        1,
      );
    });

    it('upsert is idempotent and replaces the vector and payload of an existing id', async () => {
      const first = point('x', tenantA, 'd1', vec(6), { v: '1' });
      await store.upsert([first]);
      await store.upsert([first]);
      assert.equal(
        (await store.search({ collectionId: tenantA, vector: vec(6), topK: 10 })).length,
        1,
      );
      await store.upsert([point('x', tenantA, 'd1', vec(7), { v: '2' })]);
      const [hit] = await store.search({ collectionId: tenantA, vector: vec(7), topK: 10 });
      assert.ok(hit.score > 0.99);
      assert.deepEqual(
        ids(
          await store.search({
            collectionId: tenantA,
            vector: vec(7),
            topK: 10,
            filter: { metadata: { v: '1' } },
          }),
        ),
        [],
      );
    });

    it('accepts Float32Array vectors and normalizes non-unit input', async () => {
      await store.upsert([
        {
          ...point('f', tenantA, 'd', vec(1)),
          vector: Float32Array.from(vec(1).map((x) => x * 5)),
        },
      ]);
      const [hit] = await store.search({
        collectionId: tenantA,
        vector: Float32Array.from(vec(1)),
        topK: 1,
      });
      assert.ok(Math.abs(hit.score - 1) < 1e-4);
    });

    it('rejects vectors of the wrong dimension, in upserts and searches, writing nothing', async () => {
      await assert.rejects(
        store.upsert([
          point('ok', tenantA, 'd', vec(0)),
          { ...point('bad', tenantA, 'd', vec(0)), vector: [1, 2, 3] },
        ]),
        RangeError,
      );
      assert.deepEqual(await store.search({ collectionId: tenantA, vector: vec(0), topK: 10 }), []);
      await assert.rejects(
        store.search({ collectionId: tenantA, vector: [1, 0], topK: 1 }),
        RangeError,
      );
    });

    it('answers ping', async () => {
      await store.ping();
    });
  });
}
