import assert from 'node:assert/strict';
import fc from 'fast-check';
import { LocalEmbedder, tokenize } from '../../../src/rag/embedding/local-embedder';

const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i], 0);
const norm = (a: Float32Array) => Math.sqrt(dot(a, a));

const runbooks = {
  'disk-full':
    'Postgres disk full. The data volume is above 90% used. WAL segments pile up when a replication slot is inactive. Drop the stale slot, then check pg_wal size and extend the volume.',
  'replica-lag':
    'Replica lag high. The streaming replica replays WAL slowly. Check replay lag, long-running queries on the standby, and network throughput between primary and replica.',
  'redis-down':
    'Redis unavailable. The cache cannot be reached; requests still succeed but latency rises. Check the redis pod, memory usage and evictions, then restart it.',
  'high-error-rate':
    'HTTP 5xx error rate above SLO. Look at recent deploys, roll back the last release, and inspect logs for upstream embedder or chat timeouts.',
  'queue-backlog':
    'Ingestion queue backlog growing. Workers are not keeping up or jobs keep failing into the dead-letter state. Scale the worker deployment and read the failed job errors.',
};

describe('LocalEmbedder', () => {
  const embedder = new LocalEmbedder(384);

  it('names its model after its dimension and rejects tiny dimensions', () => {
    assert.equal(embedder.model, 'local-hash-384');
    assert.equal(embedder.dimensions, 384);
    assert.throws(() => new LocalEmbedder(4), RangeError);
  });

  it('property: deterministic unit vectors of the configured size for any text', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'grapheme', maxLength: 400 }), async (text) => {
        const [a] = await embedder.embed([text]);
        const [b] = await new LocalEmbedder(384).embed([text]);
        assert.equal(a.length, 384);
        assert.ok(Math.abs(norm(a) - 1) < 1e-5, `norm ${norm(a)}`);
        assert.deepEqual(a, b);
      }),
    );
  });

  it('returns one vector per input, in order', async () => {
    const texts = ['alpha', 'beta', 'alpha'];
    const vectors = await embedder.embed(texts);
    assert.equal(vectors.length, 3);
    assert.deepEqual(vectors[0], vectors[2]);
    assert.notDeepEqual(vectors[0], vectors[1]);
  });

  it('places texts that share words closer than unrelated texts', async () => {
    const [q, related, unrelated] = await embedder.embed([
      'restart the redis cache',
      'Redis cache restarts are safe',
      'postgres WAL archiving settings',
    ]);
    assert.ok(dot(q, related) > 0.3, `related similarity ${dot(q, related)}`);
    assert.ok(dot(q, related) > dot(q, unrelated) + 0.2);
  });

  it('retrieves the right runbook for on-call questions', async () => {
    const ids = Object.keys(runbooks);
    const docs = await embedder.embed(Object.values(runbooks));
    const questions: [string, string][] = [
      ['what do I do when the postgres disk is full?', 'disk-full'],
      ['replica is lagging behind the primary', 'replica-lag'],
      ['redis is down, is the service broken?', 'redis-down'],
      ['error rate spiked after a deploy', 'high-error-rate'],
      ['documents stuck in the ingestion queue', 'queue-backlog'],
    ];
    for (const [question, expected] of questions) {
      const [q] = await embedder.embed([question]);
      const best =
        ids[docs.map((d) => dot(q, d)).reduce((bi, s, i, all) => (s > all[bi] ? i : bi), 0)];
      assert.equal(best, expected, `"${question}" retrieved ${best}`);
    }
  });

  it('tokenizes case-, accent- and inflection-insensitively and drops stopwords', () => {
    assert.deepEqual(tokenize('How do I restart the Pods? Restarting pod_one, Zürich!'), [
      'restart',
      'pod',
      'restart',
      'pod_one',
      'zurich',
    ]);
  });

  it('tokenizes ASCII text on its fast path exactly as the Unicode path does', () => {
    // One non-ASCII letter at the end sends the same text down the Unicode path; " é" then only
    // adds the word "e". Texts drawn from every ASCII character, words and separators favoured.
    const alphabet = Array.from({ length: 128 }, (_, i) => String.fromCharCode(i));
    const favoured = [..."aZ9_' .-\n\t", 'ing', 'ed', 'ies', 'ss', 'the', 'How', 'RESTARTS'];
    let seed = 11;
    const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    for (let n = 0; n < 500; n++) {
      let text = '';
      const length = Math.floor(next() * 60);
      for (let i = 0; i < length; i++) {
        const pool = next() < 0.5 ? favoured : alphabet;
        text += pool[Math.floor(next() * pool.length)];
      }
      assert.deepEqual(tokenize(`${text} \u00e9`), [...tokenize(text), 'e'], JSON.stringify(text));
    }
  });

  it('honours an aborted signal', async () => {
    await assert.rejects(embedder.embed(['x'], AbortSignal.abort()), { name: 'AbortError' });
  });
});
