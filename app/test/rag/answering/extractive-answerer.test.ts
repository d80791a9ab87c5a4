import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Passage } from '../../../src/rag/answering/answerer';
import {
  ExtractiveAnswerer,
  NO_RELEVANT_PASSAGE,
} from '../../../src/rag/answering/extractive-answerer';
import { SNIPPET_MAX_CHARS, snippetAround } from '../../../src/rag/answering/passage-sentences';
import { chunkDocument } from '../../../src/rag/chunking/chunker';
import { LocalEmbedder } from '../../../src/rag/embedding/local-embedder';
import { InProcessVectorStore } from '../../../src/stores/vector/in-process-vector-store';

const passage = (id: string, text: string, headingPath: string[] = [], score = 0.5): Passage => ({
  chunkId: `chunk-${id}`,
  documentId: `doc-${id}`,
  score,
  text,
  headingPath,
});

describe('ExtractiveAnswerer', () => {
  const answerer = new ExtractiveAnswerer();

  it('quotes the most relevant sentences and cites the passages they come from', async () => {
    const { text, citations } = await answerer.answer({
      question: 'How do I fix a full Postgres disk?',
      passages: [
        passage(
          'disk',
          'Alerts fire at 90% usage. To fix a full disk, drop inactive replication slots and extend the Postgres volume. Then watch pg_wal shrink.',
          ['Postgres disk full', 'Mitigation'],
          0.8,
        ),
        passage('redis', 'Redis restarts are safe. The cache refills on its own.', ['Redis'], 0.3),
      ],
    });
    assert.match(text, /drop inactive replication slots and extend the Postgres volume\. \[1\]/);
    assert.doesNotMatch(text, /Redis/);
    assert.deepEqual(
      citations.map((c) => [c.documentId, c.chunkId, c.score]),
      [['doc-disk', 'chunk-disk', 0.8]],
    );
    assert.match(citations[0].snippet, /drop inactive replication slots/);
  });

  it('numbers citations in order of use and quotes each sentence once', async () => {
    const shared = 'Roll back the release with helm rollback rag-api.';
    const { text, citations } = await answerer.answer({
      question: 'how to roll back a bad release',
      passages: [
        passage('a', `Error rate alert. ${shared}`),
        passage('b', `${shared} Check the deploy history first.`), // overlapping chunk
        passage('c', 'The release history is in the deploy dashboard.'),
      ],
    });
    assert.equal(text.split(shared).length - 1, 1, text);
    assert.deepEqual(
      citations.map((c) => c.documentId),
      [...new Set(citations.map((c) => c.documentId))],
    );
    for (const [i] of citations.entries()) assert.ok(text.includes(`[${i + 1}]`));
  });

  it('does not quote a much less similar passage just because it shares words', async () => {
    const { text, citations } = await answerer.answer({
      question: 'The Postgres primary is down. What should I check first?',
      passages: [
        passage(
          'primary',
          'The Postgres primary is unreachable. Check the RDS event log.',
          [],
          0.34,
        ),
        passage('hpa', 'Check node capacity first, then raise maxReplicas.', [], 0.22),
      ],
    });
    assert.deepEqual(
      citations.map((c) => c.documentId),
      ['doc-primary'],
    );
    assert.doesNotMatch(text, /maxReplicas/);
  });

  it('says so clearly when no passage is relevant, and cites nothing', async () => {
    for (const passages of [[passage('x', 'Kafka consumer groups rebalance.')], []]) {
      const answer = await answerer.answer({ question: 'rotate the TLS certificate', passages });
      assert.deepEqual(answer, { text: NO_RELEVANT_PASSAGE, citations: [] });
    }
  });

  it('strips Markdown syntax from quoted sentences', async () => {
    const { text } = await answerer.answer({
      question: 'restart the worker',
      passages: [
        passage(
          'w',
          '## Steps\n- **Restart** the worker deployment\n```sh\nkubectl rollout restart deploy/worker\n```',
        ),
      ],
    });
    assert.doesNotMatch(text, /\*\*|```|^- /);
    assert.match(text, /Restart the worker deployment/);
  });

  it('property: snippets are at most 240 characters and contain the sentence when it fits', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 2000 }), fc.nat(), fc.nat(), (text, a, b) => {
        const start = text.length ? a % text.length : 0;
        const end = start + (text.length ? b % (text.length - start + 1) : 0);
        const snippet = snippetAround(text, start, end);
        assert.ok(snippet.length <= SNIPPET_MAX_CHARS, `snippet of ${snippet.length} chars`);
        const sentence = text.slice(start, end).replace(/\s+/g, ' ').trim();
        if (end - start < SNIPPET_MAX_CHARS - 1) assert.ok(snippet.includes(sentence));
      }),
      { numRuns: 500 },
    );
  });

  it('answers an on-call question from chunked, embedded, retrieved runbooks, citing the right one', async () => {
    const runbooks: Record<string, string> = {
      'PostgresDiskFull.md': `# PostgresDiskFull\n\n## Symptoms\nThe Postgres data volume is above 90% and writes may fail with "No space left on device".\n\n## Mitigation\n1. Find inactive replication slots: \`select * from pg_replication_slots where not active\`.\n2. Drop the stale slot so WAL can be recycled.\n3. Extend the volume if usage stays high.\n`,
      'RedisDown.md': `# RedisDown\n\n## Impact\nCache misses raise latency but requests still succeed.\n\n## Mitigation\nRestart the Redis pod and check memory evictions.\n`,
      'HighErrorRate.md': `# HighErrorRate\n\n## Mitigation\nRoll back the last deploy with helm rollback, then read the logs for upstream timeouts.\n`,
    };
    const embedder = new LocalEmbedder(384);
    const store = new InProcessVectorStore(384);
    const byId = new Map<string, Passage>();
    for (const [doc, text] of Object.entries(runbooks)) {
      const chunks = chunkDocument(text, {
        documentId: doc,
        mediaType: 'text/markdown',
        size: 300,
        overlap: 40,
      });
      const vectors = await embedder.embed(chunks.map((c) => c.text));
      await store.upsert(
        chunks.map((c, i) => ({
          id: c.id,
          vector: vectors[i],
          payload: { collectionId: 'runbooks', documentId: doc },
        })),
      );
      for (const c of chunks)
        byId.set(c.id, {
          chunkId: c.id,
          documentId: doc,
          score: 0,
          text: c.text,
          headingPath: c.headingPath,
        });
    }
    const question = 'the postgres disk is full, what should I do?';
    const [q] = await embedder.embed([question]);
    const hits = await store.search({ collectionId: 'runbooks', vector: q, topK: 3 });
    const answer = await answerer.answer({
      question,
      passages: hits.map((h) => ({ ...byId.get(h.id)!, score: h.score })),
    });
    assert.equal(answer.citations[0].documentId, 'PostgresDiskFull.md', JSON.stringify(answer));
    assert.match(answer.text, /replication slot|volume/i);
  });
});
