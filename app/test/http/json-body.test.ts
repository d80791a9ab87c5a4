import assert from 'node:assert/strict';
import { AsyncLocalStorage } from 'node:async_hooks';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import net from 'node:net';
import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
import { jsonBody } from '../../src/http/json-body';

// The JSON body fast path against body-parser itself: the same bytes, sent the same way (split
// anywhere, even inside a multi-byte character), must give the same `req.body` or the same error
// (status and `type`, which problem.ts maps to the problem the client sees).

const limit = 64;

type Outcome =
  | { body: unknown; context?: string }
  | { status: number; type: string; context?: string }
  | 'pending';

// The request's async context (request id, stage timings, trace span) must reach what runs after
// the body was read, however it arrived.
const requestStore = new AsyncLocalStorage<string>();
const inRequestContext: RequestHandler = (req, _res, next) =>
  requestStore.run(String(req.headers['x-case']), next);

function outcomeRecorder(outcomes: Map<string, Outcome>, path: string) {
  const ok: RequestHandler = (req, res) => {
    outcomes.set(`${path} ${req.headers['x-case']}`, {
      body: req.body as unknown,
      context: requestStore.getStore(),
    });
    res.json({ ok: true });
  };
  const failed: ErrorRequestHandler = (err: { status: number; type: string }, req, res, _next) => {
    outcomes.set(`${path} ${req.headers['x-case']}`, {
      status: err.status,
      type: err.type,
      context: requestStore.getStore(),
    });
    if (!res.headersSent && res.writable) res.status(err.status).end();
  };
  return { ok, failed };
}

interface Case {
  readonly name: string;
  readonly contentType?: string;
  readonly body: Buffer;
  /** The Content-Length header, when it is not the body's length. */
  readonly contentLength?: string;
  readonly extraHeaders?: readonly string[];
  /** Byte offsets at which the body is split into separate writes. */
  readonly splits?: readonly number[];
  /** Half-close the connection after the bytes (a client that gave up mid-body). */
  readonly abort?: boolean;
}

const utf8 = (text: string) => Buffer.from(text, 'utf8');
const json = 'application/json';

const cases: Case[] = [
  { name: 'object', contentType: json, body: utf8('{"query":"why","topK":5}') },
  { name: 'array', contentType: json, body: utf8('[1,2,3]') },
  { name: 'leading whitespace', contentType: json, body: utf8(' \r\n\t{"a":1}') },
  { name: 'empty', contentType: json, body: utf8('') },
  { name: 'byte order mark', contentType: json, body: utf8('\ufeff{"a":1}') },
  { name: 'string literal', contentType: json, body: utf8('"text"') },
  { name: 'number', contentType: json, body: utf8('42') },
  { name: 'null', contentType: json, body: utf8('null') },
  { name: 'malformed', contentType: json, body: utf8('{"a":') },
  { name: 'trailing garbage', contentType: json, body: utf8('{"a":1}x') },
  { name: 'only whitespace', contentType: json, body: utf8('   ') },
  {
    name: 'multi-byte split inside a character',
    contentType: json,
    body: utf8('{"q":"Größe ✓ 日本"}'),
    splits: [9, 10, 16, 17],
  },
  {
    name: 'invalid UTF-8',
    contentType: json,
    body: Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]),
  },
  {
    name: 'charset parameter',
    contentType: 'application/json; charset=utf-8',
    body: utf8('{"a":1}'),
  },
  {
    name: 'charset upper case',
    contentType: 'Application/JSON; Charset=UTF-8',
    body: utf8('{"a":1}'),
  },
  {
    name: 'latin1 charset',
    contentType: 'application/json; charset=latin1',
    body: utf8('{"a":1}'),
  },
  { name: 'plus json', contentType: 'application/merge-patch+json', body: utf8('{"a":1}') },
  { name: 'not json', contentType: 'text/plain', body: utf8('{"a":1}') },
  { name: 'over the limit', contentType: json, body: utf8(`{"a":"${'x'.repeat(limit)}"}`) },
  {
    name: 'unknown content encoding',
    contentType: json,
    body: utf8('{"a":1}'),
    extraHeaders: ['Content-Encoding: snappy'],
  },
  {
    name: 'aborted mid-body',
    contentType: json,
    body: utf8('{"a":'),
    contentLength: '20',
    abort: true,
  },
];

async function send(port: number, path: string, c: Case): Promise<void> {
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  const head = [
    `POST ${path} HTTP/1.1`,
    'Host: test',
    'Connection: close',
    `X-Case: ${c.name}`,
    ...(c.contentType ? [`Content-Type: ${c.contentType}`] : []),
    `Content-Length: ${c.contentLength ?? c.body.length}`,
    ...(c.extraHeaders ?? []),
  ].join('\r\n');
  socket.write(`${head}\r\n\r\n`);
  let from = 0;
  for (const at of [...(c.splits ?? []), c.body.length]) {
    socket.write(c.body.subarray(from, at));
    // Separate TCP segments: the next piece goes out once this one has been handed to the kernel.
    await new Promise<void>((resolve) => socket.write('', () => resolve()));
    from = at;
  }
  if (c.abort) socket.end();
  socket.resume();
  await once(socket, 'close');
}

describe('JSON body fast path (http/json-body.ts) against body-parser', function () {
  this.timeout(30_000);
  const outcomes = new Map<string, Outcome>();
  let server: Server;
  let port: number;

  before(async () => {
    const app = express();
    app.use(inRequestContext);
    const fast = outcomeRecorder(outcomes, '/fast');
    const reference = outcomeRecorder(outcomes, '/reference');
    app.post('/fast', jsonBody(limit), fast.ok, fast.failed);
    // As in the service, where authentication and the rate limiter await first: the body has
    // arrived whole (or the client is gone) before it is read.
    const late = outcomeRecorder(outcomes, '/fast-late');
    const arrived: RequestHandler = (req, _res, next) => {
      const poll = () => (req.complete || req.destroyed ? next() : setImmediate(poll));
      poll();
    };
    app.post('/fast-late', arrived, jsonBody(limit), late.ok, late.failed);
    // Behind a body parser that read the body already: what that parser made of it stands.
    const behind = outcomeRecorder(outcomes, '/fast-behind');
    app.post(
      '/fast-behind',
      express.json({ limit, strict: true, type: ['application/json', 'application/*+json'] }),
      jsonBody(limit),
      behind.ok,
      behind.failed,
    );
    app.post(
      '/reference',
      express.json({ limit, strict: true, type: ['application/json', 'application/*+json'] }),
      reference.ok,
      reference.failed,
    );
    server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  for (const c of cases) {
    it(`${c.name}: the same outcome`, async () => {
      const paths = ['/reference', '/fast', '/fast-late', '/fast-behind'];
      for (const p of paths) await send(port, p, c);
      // An aborted body settles after the socket closed on the client side: poll, do not sleep.
      const deadline = Date.now() + 10_000;
      while (!paths.every((p) => outcomes.has(`${p} ${c.name}`)) && Date.now() < deadline) {
        await new Promise((resolve) => setImmediate(resolve));
      }
      const [reference, fast, late, behind] = paths.map(
        (p) => outcomes.get(`${p} ${c.name}`) ?? 'pending',
      );
      assert.notEqual(reference, 'pending', 'body-parser never settled');
      assert.deepEqual(fast, reference, 'read as it arrives');
      assert.deepEqual(late, reference, 'read once it has arrived');
      assert.deepEqual(behind, reference, 'read before by body-parser');
    });
  }
});
