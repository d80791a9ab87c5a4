import assert from 'node:assert/strict';
import fc from 'fast-check';
import { chunkDocument, type Chunk, type ChunkOptions } from '../../../src/rag/chunking/chunker';

const md = (size: number, overlap = 0): ChunkOptions => ({
  documentId: 'doc-1',
  mediaType: 'text/markdown',
  size,
  overlap,
});

const word = fc.constantFrom(
  'disk',
  'full',
  'restart',
  'the',
  'pod',
  'latency',
  'p95',
  'é',
  '🚀',
  'x'.repeat(40),
);
const sentence = fc
  .tuple(fc.array(word, { minLength: 1, maxLength: 30 }), fc.constantFrom('.', '!', '?', ''))
  .map(([ws, end]) => ws.join(' ') + end);
const markdownPart = fc.oneof(
  fc
    .tuple(fc.integer({ min: 1, max: 6 }), fc.array(word, { maxLength: 5 }))
    .map(([level, ws]) => `${'#'.repeat(level)} ${ws.join(' ')}\n`),
  fc.array(sentence, { minLength: 1, maxLength: 8 }).map((ss) => ss.join(' ') + '\n\n'),
  fc
    .array(fc.array(word, { maxLength: 12 }), { maxLength: 30 })
    .map((lines) => '```sh\n' + lines.map((l) => l.join(' ')).join('\n') + '\n```\n'),
  fc.array(word, { minLength: 1, maxLength: 6 }).map((ws) => `- ${ws.join(' ')}\n`),
  fc.constantFrom('\n', '\r\n', '   \n', '~~~\n', '# \n', '```\n'),
  fc.string({ unit: 'binary', maxLength: 60 }),
);
const document = fc.array(markdownPart, { maxLength: 40 }).map((parts) => parts.join(''));
const options = fc
  .tuple(fc.integer({ min: 16, max: 1200 }), fc.double({ min: 0, max: 0.99, noNaN: true }))
  .map(([size, ratio]): [number, number] => [size, Math.floor(size * ratio)]);
const mediaType = fc.constantFrom('text/markdown' as const, 'text/plain' as const);

function check(text: string, chunks: Chunk[], size: number): void {
  const covered = new Uint8Array(text.length);
  chunks.forEach((c, i) => {
    assert.equal(c.ordinal, i);
    assert.ok(c.text.length <= size, `chunk ${i} has ${c.text.length} > ${size} chars`);
    assert.ok(c.text.length > 0 && c.text.trim() === c.text, 'chunks are trimmed and non-empty');
    assert.equal(text.slice(c.start, c.end), c.text, 'offsets match the text');
    assert.match(c.id, /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    if (i > 0) assert.ok(c.start >= chunks[i - 1].start, 'chunks are in document order');
    covered.fill(1, c.start, c.end);
  });
  for (let i = 0; i < text.length; i++) {
    if (!/\s/.test(text[i]))
      assert.equal(covered[i], 1, `character ${i} (${text[i]}) is in no chunk`);
  }
  assert.equal(new Set(chunks.map((c) => c.id)).size, chunks.length, 'ids are unique');
}

describe('chunkDocument', () => {
  it('property: chunks fit the size, cover the input, match their offsets, are deterministic', () => {
    fc.assert(
      fc.property(document, options, mediaType, (text, [size, overlap], type) => {
        const opts = { documentId: 'd', mediaType: type, size, overlap };
        const chunks = chunkDocument(text, opts);
        check(text, chunks, size);
        assert.deepEqual(chunkDocument(text, opts), chunks);
      }),
      { numRuns: 300 },
    );
  });

  it('property: arbitrary unicode strings are handled the same way', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', maxLength: 3000 }),
        options,
        mediaType,
        (text, [size, overlap], type) => {
          check(
            text,
            chunkDocument(text, { documentId: 'd', mediaType: type, size, overlap }),
            size,
          );
        },
      ),
      { numRuns: 200 },
    );
  });

  it('gives each chunk the path of headings it sits under', () => {
    const text = [
      '# Disk full',
      '## Symptoms',
      'Writes fail with ENOSPC.',
      '## Mitigation',
      '### Quick fix',
      'Delete old WAL segments only after checking replication.',
      '# Other runbook',
      'Unrelated text.',
    ].join('\n');
    const chunks = chunkDocument(text, md(200));
    assert.deepEqual(
      chunks.map((c) => [c.headingPath, c.text.split('\n').at(-1)]),
      [
        [['Disk full', 'Symptoms'], 'Writes fail with ENOSPC.'],
        [
          ['Disk full', 'Mitigation', 'Quick fix'],
          'Delete old WAL segments only after checking replication.',
        ],
        [['Other runbook'], 'Unrelated text.'],
      ],
    );
    // A heading followed directly by a deeper one is folded into it, not a chunk of its own.
    assert.ok(chunks[0].text.startsWith('# Disk full\n## Symptoms'));
  });

  it('keeps a fenced code block whole when it fits, and ignores # inside it', () => {
    const code =
      '```bash\n# not a heading\n' + 'kubectl rollout restart deploy/rag-api\n'.repeat(4) + '```';
    const text = `# Deploy\n${'Intro sentence here. '.repeat(8)}\n\n${code}\n\nAfter the block.`;
    const chunks = chunkDocument(text, md(220));
    const withCode = chunks.filter((c) => c.text.includes('kubectl'));
    assert.equal(withCode.length, 1, 'the code block is in exactly one chunk');
    assert.ok(withCode[0].text.includes(code));
    assert.ok(chunks.every((c) => c.headingPath.join('/') === 'Deploy'));
  });

  it('splits long paragraphs at sentence ends, not mid-sentence', () => {
    const sentences = Array.from({ length: 20 }, (_, i) => `Sentence number ${i} ends here.`);
    const chunks = chunkDocument(sentences.join(' '), md(100));
    assert.ok(chunks.length > 3);
    for (const c of chunks) assert.match(c.text, /^Sentence number \d+ .*ends here\.$/);
  });

  it('repeats up to `overlap` characters of the previous chunk within a section', () => {
    const text = Array.from({ length: 40 }, (_, i) => `word${i}`).join(' ');
    const chunks = chunkDocument(text, md(60, 20));
    assert.ok(chunks.length > 2);
    for (let i = 1; i < chunks.length; i++) {
      const shared = chunks[i - 1].end - chunks[i].start;
      assert.ok(shared > 0 && shared <= 20, `overlap of chunk ${i} is ${shared}`);
      assert.ok(/^word\d+/.test(chunks[i].text), 'overlap starts at a word boundary');
    }
  });

  it('does not overlap across headings', () => {
    const text = `# A\n${'alpha beta gamma. '.repeat(3)}\n# B\n${'delta epsilon. '.repeat(3)}`;
    const chunks = chunkDocument(text, md(200, 50));
    assert.equal(chunks.length, 2);
    assert.ok(chunks[1].start >= chunks[0].end);
  });

  it('treats plain text literally: no headings, no fences', () => {
    const chunks = chunkDocument('# not a heading\nbody', { ...md(100), mediaType: 'text/plain' });
    assert.deepEqual(
      chunks.map((c) => [c.text, c.headingPath]),
      [['# not a heading\nbody', []]],
    );
  });

  it('ids depend on document, ordinal and text only', () => {
    const a = chunkDocument('Same text.', md(100))[0].id;
    assert.equal(chunkDocument('Same text.', md(200))[0].id, a);
    assert.notEqual(chunkDocument('Same text.', { ...md(100), documentId: 'doc-2' })[0].id, a);
    assert.notEqual(chunkDocument('Same text!', md(100))[0].id, a);
  });

  it('returns nothing for empty or blank input and rejects bad options', () => {
    assert.deepEqual(chunkDocument('', md(100)), []);
    assert.deepEqual(chunkDocument(' \n\n\t ', md(100)), []);
    assert.throws(() => chunkDocument('x', md(8)), RangeError);
    assert.throws(() => chunkDocument('x', md(100, 100)), RangeError);
    assert.throws(() => chunkDocument('x', md(100, -1)), RangeError);
  });

  describe('adversarial input (documents come from clients)', () => {
    const MiB = 1024 * 1024;
    // Shapes that made the former regular expressions backtrack quadratically: a run of sentence
    // ends with no space after it, spaces after a heading marker. Minutes each before; now a
    // single linear scan, tens of milliseconds.
    const backtracking: Record<string, (bytes: number) => string> = {
      periods: (n) => '.'.repeat(n),
      exclamations: (n) => '!'.repeat(n - 1) + 'x',
      'spaces after a heading marker': (n) => '# a' + ' '.repeat(n - 4) + 'b',
      'closing quotes after a period': (n) => '.' + '"'.repeat(n - 1),
      'one long run without breaks': (n) => 'x'.repeat(n),
    };
    // Shapes with a line or a section every few bytes: linear too, but with an object per line
    // and a chunk per section (65,536 chunks for the headings), a few hundred ms each on a quiet
    // machine and up to a couple of seconds on a loaded one; quadratic would never finish.
    const dense: Record<string, (bytes: number) => string> = {
      'line breaks only': (n) => '\n'.repeat(n),
      'many headings': (n) => '## Step\nDo it.\n'.repeat(Math.floor(n / 16)),
      'nested headings': (n) => '# a\n## b\n### c\nd\n'.repeat(Math.floor(n / 20)),
    };

    /** CPU seconds to chunk 1 MiB of each shape: the bound is about the algorithm, not the load. */
    function cpuSeconds(shapes: Record<string, (bytes: number) => string>): number {
      const before = process.cpuUsage();
      for (const [name, make] of Object.entries(shapes)) {
        const text = make(MiB);
        const chunks = chunkDocument(text, md(800, 120));
        assert.ok(chunks.length <= text.length, name);
      }
      const used = process.cpuUsage(before);
      return (used.user + used.system) / 1e6;
    }

    it('chunks 1 MiB of each formerly quadratic shape in well under a second of CPU in total', () => {
      const seconds = cpuSeconds(backtracking);
      assert.ok(seconds < 1, `chunking took ${seconds.toFixed(2)} s of CPU`);
    });

    it('chunks 1 MiB with a line or a section every few bytes in seconds, not minutes', () => {
      const seconds = cpuSeconds(dense);
      assert.ok(seconds < 10, `chunking took ${seconds.toFixed(2)} s of CPU`);
    });

    it('parses headings as before: closing hashes, spaces, tabs, too many marks', () => {
      const paths = (text: string) => chunkDocument(text, md(100)).map((c) => c.headingPath);
      assert.deepEqual(paths('# Title #\nbody'), [['Title']]);
      assert.deepEqual(paths('#\tTabbed  ##  \nbody'), [['Tabbed']]);
      assert.deepEqual(paths('# Title#\nbody'), [['Title#']]);
      assert.deepEqual(paths('   ## Indented\nbody'), [['Indented']]);
      assert.deepEqual(paths('#######  seven\nbody'), [[]]);
      assert.deepEqual(paths('#hashtag\nbody'), [[]]);
      assert.deepEqual(paths('# a' + ' '.repeat(5000) + 'b\nbody')[0], [
        'a' + ' '.repeat(5000) + 'b',
      ]);
    });
  });
});
