import assert from 'node:assert/strict';
import type { Passage } from '../../../src/rag/answering/answerer';
import { ChatAnswerer, citedNumbers } from '../../../src/rag/answering/chat-answerer';
import { NO_RELEVANT_PASSAGE } from '../../../src/rag/answering/extractive-answerer';
import { OpenAiChatServer } from './openai-chat-server';

const passages: Passage[] = [
  {
    chunkId: 'c1',
    documentId: 'disk',
    score: 0.9,
    text: 'Drop inactive replication slots so WAL can be recycled. Then extend the volume.',
    headingPath: ['PostgresDiskFull', 'Mitigation'],
    title: 'Postgres disk full',
  },
  {
    chunkId: 'c2',
    documentId: 'redis',
    score: 0.4,
    text: 'Restart the Redis pod.',
    headingPath: ['RedisDown'],
  },
  {
    chunkId: 'c3',
    documentId: 'errors',
    score: 0.2,
    text: 'Roll back the last deploy.',
    headingPath: [],
  },
];

describe('ChatAnswerer against a real chat-completions server', () => {
  let server: OpenAiChatServer;
  const make = (timeoutMs = 2_000) =>
    new ChatAnswerer({
      url: server.url,
      model: 'test-chat',
      apiKey: 'sk-chat',
      timeoutMs,
      baseDelayMs: 5,
      maxRetries: 2,
    });
  const question = 'postgres disk is full, what now?';

  beforeEach(async () => {
    server = await new OpenAiChatServer().start();
  });
  afterEach(async () => server.stop());

  it('sends a grounded prompt with numbered passages and maps cited numbers to citations', async () => {
    server.script.push({
      kind: 'answer',
      content: 'Drop inactive slots [1], then extend the volume [1][3]. Unknown [7].',
    });
    const answer = await make().answer({ question, passages });
    assert.equal(
      answer.text,
      'Drop inactive slots [1], then extend the volume [1][3]. Unknown [7].',
    );
    assert.deepEqual(
      answer.citations.map((c) => [c.documentId, c.chunkId, c.score]),
      [
        ['disk', 'c1', 0.9],
        ['errors', 'c3', 0.2],
      ],
    );
    assert.match(answer.citations[0].snippet, /replication slots/);

    const [request] = server.requests;
    assert.equal(request.headers.authorization, 'Bearer sk-chat');
    assert.equal(request.body.model, 'test-chat');
    assert.equal(request.body.temperature, 0);
    const [system, user] = request.body.messages;
    assert.equal(system.role, 'system');
    assert.match(system.content, /only the numbered passages/);
    assert.match(system.content, /\[n\]/);
    assert.match(
      user.content,
      /\[1\] \(Postgres disk full › PostgresDiskFull › Mitigation\)\nDrop inactive/,
    );
    assert.match(user.content, /\[2\] \(RedisDown\)\nRestart the Redis pod\./);
    assert.match(user.content, /\[3\]\nRoll back/);
    assert.match(user.content, /Question: postgres disk is full, what now\?$/);
  });

  it('cites every passage it was given when the model cites none', async () => {
    server.script.push({ kind: 'answer', content: 'Free up disk space.' });
    const answer = await make().answer({ question, passages });
    assert.deepEqual(
      answer.citations.map((c) => c.chunkId),
      ['c1', 'c2', 'c3'],
    );
  });

  it('retries 503 and 429, then answers', async () => {
    server.script.push(
      { kind: 'status', status: 503 },
      { kind: 'status', status: 429 },
      { kind: 'answer', content: 'ok [2]' },
    );
    const answer = await make().answer({ question, passages });
    assert.equal(server.requests.length, 3);
    assert.deepEqual(
      answer.citations.map((c) => c.chunkId),
      ['c2'],
    );
  });

  it('times out a model that does not answer', async () => {
    server.script.push(
      { kind: 'hang', ms: 1_000 },
      { kind: 'hang', ms: 1_000 },
      { kind: 'hang', ms: 1_000 },
    );
    const started = performance.now();
    await assert.rejects(make(100).answer({ question, passages }), /timed out/);
    assert.ok(performance.now() - started < 900);
    assert.equal(server.requests.length, 3);
  });

  it('rejects an empty completion without retrying', async () => {
    server.script.push({ kind: 'answer', content: '' });
    await assert.rejects(make().answer({ question, passages }), /no answer text/);
    assert.equal(server.requests.length, 1);
  });

  it('does not call the model when nothing was retrieved', async () => {
    assert.deepEqual(await make().answer({ question, passages: [] }), {
      text: NO_RELEVANT_PASSAGE,
      citations: [],
    });
    assert.equal(server.requests.length, 0);
  });

  it('parses citation groups', () => {
    assert.deepEqual(citedNumbers('a [2, 1] b [3;2] c [10] [0] [x]', 3), [2, 1, 3]);
  });
});
