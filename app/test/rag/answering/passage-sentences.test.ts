import assert from 'node:assert/strict';
import {
  cleanMarkdown,
  questionTerms,
  scoreSentences,
} from '../../../src/rag/answering/passage-sentences';
import type { Passage } from '../../../src/rag/answering/answerer';
import { tokenize } from '../../../src/rag/embedding/local-embedder';

const passage = (text: string) => ({ text, headingPath: [], title: null }) as unknown as Passage;

describe('passage sentences', () => {
  it('splits at sentence ends followed by whitespace, keeping closing quotes, and at line breaks', () => {
    const sentences = scoreSentences(
      passage('Drain the node. Then "restart it!" (twice.) Done?\n- item one\nv1.2 is out'),
      questionTerms('restart'),
    );
    assert.deepEqual(
      sentences.map((s) => s.text),
      ['Drain the node.', 'Then "restart it!"', '(twice.)', 'Done?', 'item one', 'v1.2 is out'],
    );
    assert.ok(sentences[1].overlap > 0 && sentences[0].overlap === 0);
  });

  it('scores a passage seen before exactly as the first time, headings included', () => {
    // Analyses are kept per passage: the same text under other headings is another passage.
    const text = 'Drop the slot. Then check disk usage again.';
    const terms = questionTerms('disk full');
    const first = scoreSentences(passage(text), terms);
    assert.deepEqual(scoreSentences(passage(text), terms), first);
    const underHeading = { text, headingPath: ['Disk full'], title: null } as unknown as Passage;
    const headed = scoreSentences(underHeading, terms);
    assert.ok(headed[0].overlap > 0 && first[0].overlap === 0, 'the heading bonus applies');
    assert.deepEqual(scoreSentences(passage(text), terms), first);
    assert.deepEqual(
      scoreSentences(passage(text), questionTerms('slot')).map((s) => s.overlap > 0),
      [true, false],
    );
  });

  it('scans request-sized adversarial text in linear time (CPU, 1 MiB per shape)', () => {
    // A run of periods made the former boundary expression backtrack from each position.
    const MiB = 1024 * 1024;
    const before = process.cpuUsage();
    const terms = questionTerms('disk full');
    scoreSentences(passage('.'.repeat(MiB)), terms);
    scoreSentences(passage('!'.repeat(MiB - 1) + 'x'), terms);
    scoreSentences(passage('?' + ')'.repeat(MiB)), terms);
    tokenize('a_'.repeat(MiB / 2));
    tokenize("a'".repeat(MiB / 2));
    tokenize('a' + '\u0301'.repeat(MiB));
    cleanMarkdown('**' + 'a'.repeat(MiB));
    cleanMarkdown(' '.repeat(MiB) + 'x');
    cleanMarkdown('1'.repeat(MiB) + 'x');
    const used = process.cpuUsage(before);
    const seconds = (used.user + used.system) / 1e6;
    assert.ok(seconds < 2, `took ${seconds.toFixed(2)} s of CPU`);
  });
});
