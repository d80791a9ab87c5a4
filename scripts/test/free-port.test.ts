import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { ephemeralRangeStart, freePort } from '../../test-support/free-port';

// The servers tests start (Postgres, Redis, the service, Prometheus) get their ports here. A port
// from the ephemeral range can be taken by any outgoing connection between the pick and the bind,
// which once failed a CI run with "redis did not come up".
describe('test-support/free-port', () => {
  it('picks ports below the kernel ephemeral range, never one from it', async () => {
    const start = ephemeralRangeStart();
    assert.ok(start > 1024, `ephemeral range starts at ${start}`);
    for (let i = 0; i < 50; i += 1) {
      const port = await freePort();
      assert.ok(port > 1024 && port < start, `${port} is outside 1025..${start - 1}`);
    }
  });

  it('never hands out the same port twice, even before anything binds it', async () => {
    const ports = await Promise.all(Array.from({ length: 200 }, () => freePort()));
    assert.equal(new Set(ports).size, ports.length);
  });

  it('hands out ports a server can bind at once', async () => {
    const port = await freePort();
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', resolve);
    });
    await new Promise((resolve) => server.close(resolve));
  });
});
