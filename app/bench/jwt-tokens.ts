// Benchmark: what an access token costs per request: issuing one, and verifying one (EdDSA
// signature, claims, and the denylist lookup, in memory and in Redis when REDIS_URL is set).
//   node -r ts-node/register/transpile-only app/bench/jwt-tokens.ts
import { AccessTokens } from '../src/security/jwt/access-tokens';
import { ephemeralKeys } from '../src/security/jwt/key-directory';
import type { TokenDenylist } from '../src/domain/tokens';
import { MemoryTokenDenylist } from '../src/stores/tokens/memory-token-denylist';
import { RedisTokenDenylist } from '../src/stores/tokens/redis-token-denylist';
import { summarize, type LatencySummary } from './bench-stats';

async function timed(n: number, op: () => Promise<unknown>): Promise<LatencySummary> {
  for (let i = 0; i < 200; i++) await op(); // warm-up
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await op();
    samples.push(performance.now() - t);
  }
  return summarize(samples);
}

export async function benchJwtTokens(): Promise<Record<string, LatencySummary>> {
  const keys = await ephemeralKeys();
  const settings = { issuer: 'bench', audience: 'bench', ttlSeconds: 900 };
  const denylists: [string, TokenDenylist][] = [['memory', new MemoryTokenDenylist()]];
  if (process.env.REDIS_URL) {
    const redis = new RedisTokenDenylist(process.env.REDIS_URL, { keyPrefix: 'bench:jwt:' });
    await redis.waitUntilReady(5_000);
    denylists.push(['redis', redis]);
  }
  const results: Record<string, LatencySummary> = {};
  for (const [name, denylist] of denylists) {
    const tokens = new AccessTokens(keys, denylist, settings);
    const { token } = await tokens.issue('bench-principal');
    if (name === 'memory')
      results.issue = await timed(5_000, () => tokens.issue('bench-principal'));
    results[`verify (denylist ${name})`] = await timed(5_000, () => tokens.verify(token));
    await denylist.close();
  }
  return results;
}

if (require.main === module) {
  benchJwtTokens().then((r) => console.log(JSON.stringify(r, null, 2)));
}
