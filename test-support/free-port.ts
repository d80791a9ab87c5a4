// Loopback ports for the servers that tests, load runs and drills start (Postgres, Redis, the
// service, Prometheus...), from one place.
//
// The usual trick, listen(0) and close, hands out a port from the kernel's ephemeral range, the
// same range it draws from for the local end of every outgoing connection. Between the close and
// the server's bind, any connect() on the machine (a replica streaming from its primary, a pool
// opening a connection) may take that port, and the server then fails with EADDRINUSE: a flake
// that only shows on a busy machine. Ports just below the ephemeral range are never handed out
// implicitly, so one found free there stays free until some process binds it on purpose.
//
//   node -r ts-node/register/transpile-only test-support/free-port.ts [count]
// prints `count` distinct free ports, one per line (scripts/test-services.sh uses it).
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

const span = 16_384;
const handedOut = new Set<number>();

/** The first port of the kernel's ephemeral range (Linux's default when it cannot be read). */
export function ephemeralRangeStart(): number {
  try {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
      .trim()
      .split(/\s+/);
    const start = Number(low);
    return Number.isInteger(start) && start > 1024 ? start : 32_768;
  } catch {
    return 32_768;
  }
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * A loopback port below the ephemeral range that nothing listens on now, and that this process
 * has not handed out before (two picks before either server binds must differ).
 */
export async function freePort(): Promise<number> {
  const end = ephemeralRangeStart();
  const start = Math.max(1_025, end - span);
  for (let attempt = 0; attempt < 200; attempt += 1) {
    const port = start + Math.floor(Math.random() * (end - start));
    if (handedOut.has(port)) continue;
    // Claimed before the probe, so concurrent picks in this process never return the same port.
    handedOut.add(port);
    if (await bindable(port)) return port;
    handedOut.delete(port);
  }
  throw new Error(`no free loopback port in ${start}-${end - 1} after 200 tries`);
}

if (require.main === module) {
  const count = Number(process.argv[2] ?? 1);
  void (async () => {
    for (let i = 0; i < count; i += 1) console.log(await freePort());
  })();
}
