import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type RequestHandler } from 'express';
import helmet from 'helmet';
import { apiHeaderPolicy, replayed } from '../../src/http/middleware/security-headers';

/** The response headers an app with this one middleware sends, Date aside. */
async function headersFrom(middleware: RequestHandler): Promise<[string, string][]> {
  const app = express();
  app.use((_req, res, next) => {
    // What helmet removes must be gone from the replayed response too.
    res.setHeader('X-Powered-By', 'something');
    next();
  });
  app.use(middleware);
  app.get('/', (_req, res) => {
    res.json({ ok: true });
  });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  try {
    const { port } = server.address() as AddressInfo;
    const res = await fetch(`http://127.0.0.1:${port}/`);
    await res.text();
    return [...res.headers].filter(([name]) => name !== 'date');
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

describe('security headers', () => {
  it('replayed once-recorded helmet headers equal what helmet sets per request', async () => {
    for (const policy of [apiHeaderPolicy, {}]) {
      const live = await headersFrom(helmet(policy));
      assert.ok(live.some(([name]) => name === 'content-security-policy'));
      assert.ok(!live.some(([name]) => name === 'x-powered-by'));
      assert.deepEqual(await headersFrom(replayed(helmet(policy))), live);
    }
  });

  it('refuses a middleware that does not finish at once', () => {
    assert.throws(() => replayed(() => undefined), /did not complete/);
  });
});
