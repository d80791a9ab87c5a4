import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';

/** How long a connection may take and how many may be open (config.ts documents each). */
export interface ServerLimits {
  readonly requestTimeoutMs: number;
  readonly headersTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  readonly maxConnections: number;
}

/** The limits a Config asks for. */
export function serverLimits(config: {
  HTTP_REQUEST_TIMEOUT_MS: number;
  HTTP_HEADERS_TIMEOUT_MS: number;
  HTTP_KEEP_ALIVE_TIMEOUT_MS: number;
  HTTP_MAX_CONNECTIONS: number;
}): ServerLimits {
  return {
    requestTimeoutMs: config.HTTP_REQUEST_TIMEOUT_MS,
    headersTimeoutMs: config.HTTP_HEADERS_TIMEOUT_MS,
    keepAliveTimeoutMs: config.HTTP_KEEP_ALIVE_TIMEOUT_MS,
    maxConnections: config.HTTP_MAX_CONNECTIONS,
  };
}

/** Listens with the service's timeouts; resolves with the server and the URL it can be reached at. */
export function listen(
  app: Express,
  port: number,
  host: string,
  limits: ServerLimits,
): Promise<{ server: Server; port: number; url: string }> {
  return new Promise((resolve, reject) => {
    const server = createServer(
      {
        requestTimeout: limits.requestTimeoutMs,
        headersTimeout: limits.headersTimeoutMs,
        keepAliveTimeout: limits.keepAliveTimeoutMs,
        // Node enforces the two timeouts above only on this sweep (30 s by default), so a 10 s
        // headers timeout would otherwise let a slow client hold its socket for up to 40 s.
        connectionsCheckingInterval: Math.max(100, Math.min(1_000, limits.headersTimeoutMs / 4)),
      },
      app,
    );
    // Sockets accepted above the cap are destroyed at once; the ones being served are untouched.
    server.maxConnections = limits.maxConnections;
    server.listen(port, host);
    server.once('error', reject);
    server.once('listening', () => {
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
