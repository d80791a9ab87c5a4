import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import net from 'node:net';
import express from 'express';
import { drainHttp, listen, type ServerLimits } from '../../src/composition/http-server';
import { eventually } from '../support/test-service';

// Real sockets against the real listener with small limits: what a slow or greedy client gets.

const limits: ServerLimits = {
  requestTimeoutMs: 2_000,
  headersTimeoutMs: 600,
  keepAliveTimeoutMs: 1_000,
  maxConnections: 2,
};

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Tracks what the server did to a socket: the bytes it sent and whether it closed it. */
function watch(socket: net.Socket) {
  const state = { data: '', closed: false };
  socket.on('data', (d: Buffer) => (state.data += d.toString()));
  socket.on('error', () => undefined);
  socket.on('close', () => (state.closed = true));
  return state;
}

async function keepAliveGet(socket: net.Socket, state: { data: string }): Promise<string> {
  const before = state.data.length;
  socket.write('GET /ping HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n');
  return eventually(
    () => {
      const reply = state.data.slice(before);
      return reply.includes('\r\n\r\npong') ? reply : undefined;
    },
    { what: 'a response on the kept-alive connection' },
  );
}

describe('the HTTP server limits slow and excess clients', function () {
  this.timeout(30_000);
  let server: Server;
  let port: number;
  const sockets: net.Socket[] = [];

  beforeEach(async () => {
    const app = express();
    app.get('/ping', (_req, res) => {
      res.type('text/plain').send('pong');
    });
    ({ server, port } = await listen(app, 0, '127.0.0.1', limits));
  });
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    await drainHttp(server, 0);
  });

  it('applies the configured timeouts to the server', () => {
    assert.equal(server.headersTimeout, limits.headersTimeoutMs);
    assert.equal(server.requestTimeout, limits.requestTimeoutMs);
    assert.equal(server.keepAliveTimeout, limits.keepAliveTimeoutMs);
    assert.equal(server.maxConnections, limits.maxConnections);
  });

  it('cuts off a slowloris client that never finishes its headers', async () => {
    const socket = await connect(port);
    sockets.push(socket);
    const state = watch(socket);
    socket.write('GET /ping HTTP/1.1\r\nHost: x\r\n');
    // The client keeps the connection busy with a header line now and then, never the blank line.
    let n = 0;
    const drip = setInterval(() => {
      if (!socket.destroyed) socket.write(`X-Slow-${n++}: 1\r\n`);
    }, 100);
    try {
      await eventually(() => state.closed, { what: 'the server to close the slow socket' });
    } finally {
      clearInterval(drip);
    }
    assert.match(state.data, /^HTTP\/1\.1 408/);
    assert.ok(n > 0, 'the client was still sending headers');
  });

  it('closes an idle kept-alive connection after the keep-alive timeout', async () => {
    const socket = await connect(port);
    sockets.push(socket);
    const state = watch(socket);
    await keepAliveGet(socket, state);
    await eventually(() => state.closed, { what: 'the idle connection to be closed' });
  });

  it('refuses connections above the cap while serving the ones it holds', async () => {
    const held = [await connect(port), await connect(port)];
    sockets.push(...held);
    const states = held.map(watch);
    // Served once each, so the server has certainly accepted and counted both.
    for (const [i, s] of held.entries()) await keepAliveGet(s, states[i]);

    const extra = await connect(port);
    sockets.push(extra);
    const extraState = watch(extra);
    extra.write('GET /ping HTTP/1.1\r\nHost: x\r\n\r\n');
    await eventually(() => extraState.closed, { what: 'the connection above the cap to close' });
    assert.equal(extraState.data, '', 'no response on a refused connection');

    for (const [i, s] of held.entries()) {
      assert.match(await keepAliveGet(s, states[i]), /^HTTP\/1\.1 200/);
    }
  });
});
