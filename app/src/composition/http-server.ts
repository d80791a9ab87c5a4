import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';

/** Listens with the service's timeouts; resolves with the server and the URL it can be reached at. */
export function listen(
  app: Express,
  port: number,
  host: string,
): Promise<{ server: Server; port: number; url: string }> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host);
    server.once('error', reject);
    server.once('listening', () => {
      server.requestTimeout = 60_000;
      server.headersTimeout = 15_000;
      const bound = (server.address() as AddressInfo).port;
      const reachable = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
      const url = `http://${reachable.includes(':') ? `[${reachable}]` : reachable}:${bound}`;
      resolve({ server, port: bound, url });
    });
  });
}

/** Stops accepting connections, lets in-flight requests finish, and cuts the rest at the deadline. */
export async function drainHttp(server: Server, deadlineMs: number): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  // Keep-alive connections that go idle after their last response are closed as they do.
  const sweep = setInterval(() => server.closeIdleConnections(), 100);
  const timeout = new Promise<void>((resolve) => setTimeout(resolve, deadlineMs).unref());
  await Promise.race([closed, timeout]);
  clearInterval(sweep);
  server.closeAllConnections();
}
