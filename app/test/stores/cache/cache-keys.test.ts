import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  canonicalJson,
  embeddingCacheKey,
  queryCacheCanonical,
  queryCacheKey,
  type QueryCacheKeyInput,
} from '../../../src/stores/cache/cache-keys';

const base: QueryCacheKeyInput = {
  collectionId: 'c1',
  indexVersion: 3,
  query: 'how do I rotate the database password?',
  topK: 5,
  model: 'local-hash-384',
};

describe('cache keys', () => {
  it('canonicalJson ignores property order and undefined members', () => {
    assert.equal(
      canonicalJson({ b: 1, a: { d: [1, 'x'], c: null, e: undefined } }),
      '{"a":{"c":null,"d":[1,"x"]},"b":1}',
    );
  });

  it('queryCacheKey is stable across filter ordering and differs on every input that matters', () => {
    const withFilter = (documentIds: string[], metadata: Record<string, string>) =>
      queryCacheKey({ ...base, filter: { documentIds, metadata } });
    assert.equal(
      withFilter(['d2', 'd1'], { team: 'sre', env: 'prod' }),
      withFilter(['d1', 'd2'], { env: 'prod', team: 'sre' }),
    );
    const k = queryCacheKey(base);
    assert.match(k, /^rag:q:c1:[0-9a-f]{64}$/);
    const variants: Partial<QueryCacheKeyInput>[] = [
      { collectionId: 'c2' },
      { indexVersion: 4 },
      { query: base.query + ' ' },
      { topK: 6 },
      { model: 'text-embedding-3-small' },
      { filter: { documentIds: ['d1'] } },
      { filter: { metadata: { team: 'sre' } } },
    ];
    const keys = variants.map((v) => queryCacheKey({ ...base, ...v }));
    assert.equal(new Set([k, ...keys]).size, variants.length + 1);
  });

  it('queryCacheCanonical is canonicalJson of the inputs that matter (property)', () => {
    const text = fc.string({ unit: 'binary' });
    fc.assert(
      fc.property(
        fc.record(
          {
            collectionId: text,
            indexVersion: fc.oneof(fc.nat(), text),
            query: text,
            topK: fc.integer({ min: 1, max: 50 }),
            model: text,
            filter: fc.record(
              {
                documentIds: fc.array(text, { maxLength: 5 }),
                metadata: fc.dictionary(text, text, { maxKeys: 5 }),
              },
              { requiredKeys: [] },
            ),
          },
          { requiredKeys: ['collectionId', 'indexVersion', 'query', 'topK', 'model'] },
        ),
        (input) => {
          const documentIds = input.filter?.documentIds;
          const expected = canonicalJson({
            v: 2,
            indexVersion: String(input.indexVersion),
            query: input.query,
            topK: input.topK,
            documentIds: documentIds ? [...new Set(documentIds)].sort() : undefined,
            metadata: input.filter?.metadata,
            model: input.model,
          });
          assert.equal(queryCacheCanonical(input), expected);
        },
      ),
    );
  });

  it('distinct queries never share a key (property)', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (a, b) => {
        fc.pre(a !== b);
        return queryCacheKey({ ...base, query: a }) !== queryCacheKey({ ...base, query: b });
      }),
    );
  });

  it('embeddingCacheKey separates models, dimensions and texts', () => {
    const k = embeddingCacheKey('m', 384, 'hello');
    assert.match(k, /^rag:e:m:384:[0-9a-f]{64}$/);
    assert.notEqual(k, embeddingCacheKey('m', 768, 'hello'));
    assert.notEqual(k, embeddingCacheKey('n', 384, 'hello'));
    assert.notEqual(k, embeddingCacheKey('m', 384, 'hello!'));
    assert.equal(k, embeddingCacheKey('m', 384, 'hello'));
  });
});
