// `npm run bench -- security`: what authentication plus rate limiting add to a cached
// POST /v1/query (issue 8: at most 1 ms at the p50). Two services in this process on the same
// backing services and database: `secured` as configured for production (API keys verified and
// cached, JWTs, the Redis rate limiter with tiers too loose to ever answer 429), and `baseline`
// with neither (startService's bench-only `unauthenticatedPrincipal`, no limiter). k6 sends the
// same cached questions at a fixed rate (open model) to the baseline, the secured service with an
// API key, and the secured service with a JWT access token, sides alternated in rounds (ABC, CBA,
// ...) so load from elsewhere on the machine hits each; then the closed model for the maximum
// throughput. Writes bench-results/security.json (BENCH_RESULTS_PATH).
//
//   npm run bench -- security                       ~2.5 minutes on a loaded 2-core machine
//   BENCH_SCALE=small npm run bench -- security     under a minute (keeps the script honest)
//   BENCH_CACHED_RATE (200), BENCH_VUS (8), BENCH_SECURITY_SECONDS (20), BENCH_SECURITY_ROUNDS (2)
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/config';
import type { Principal } from '../src/domain/principal';
import { startService, type RunningService } from '../src/service';
import { ensureRunKey, runApiKey } from '../test/support/test-credential';
import { benchCorpus, ingestThroughApi } from './api-ingestion';
import { formatTable } from './bench-report';
import { acquireBackingServices, createThrowawayDatabase } from './bench-services';
import { seededRandom, syntheticText } from './bench-stats';
import { runLoadScenario, type LoadScenario, type ScenarioResult } from './load-scenarios';

export const securitySides = ['baseline', 'api key', 'jwt'] as const;
export type SecuritySide = (typeof securitySides)[number];

const scales = {
  full: { chunks: 200, rateSeconds: 20, maxSeconds: 3 },
  small: { chunks: 50, rateSeconds: 2, maxSeconds: 1 },
} as const;

const collection = 'bench';
const questionCount = 50;
// Far above anything k6 sends here: every request is admitted, as on the hot path of a real
// caller, yet each one still runs the limiter's Redis script (principal and client address).
const looseTier = { rate: 1_000_000, burst: 1_000_000 };

function setting(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number`);
  return value;
}

async function post(
  url: string,
  body: unknown,
  token = runApiKey,
): Promise<{ status: number; json: Record<string, unknown>; rateLimited: boolean }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify(body),
  });
  return {
    status: res.status,
    json: (await res.json()) as Record<string, unknown>,
    rateLimited: res.headers.has('ratelimit-policy'),
  };
}

/** Until its index is whole: a query it answered from a partial index would be cached as is. */
async function ready(service: RunningService): Promise<void> {
  for (let attempt = 0; attempt < 600; attempt++) {
    const res = await fetch(`${service.url}/readyz`);
    const body = (await res.json()) as { status?: string };
    if (res.status === 200 && body.status === 'ready') return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${service.url} never became ready`);
}

/**
 * Asks every question through `url` until each is answered from the query cache (the key carries
 * the index version a replica reports, which may trail the last commit), then warms the JIT.
 */
async function warmUp(
  side: SecuritySide,
  target: { url: string; token: string },
  questions: readonly string[],
): Promise<void> {
  const { url, token } = target;
  // The sides must differ by exactly what is measured: the limiter answers every request it ran on.
  const probe = await post(`${url}/v1/query`, { collection, query: questions[0] }, token);
  if (probe.status !== 200 || probe.rateLimited !== (side !== 'baseline'))
    throw new Error(`${side}: status ${probe.status}, rate limited: ${probe.rateLimited}`);
  let pending = questions;
  for (let round = 0; round < 50 && pending.length > 0; round++) {
    const missed: string[] = [];
    for (const query of pending) {
      const res = await post(`${url}/v1/query`, { collection, query, topK: 5 }, token);
      if (res.status !== 200) throw new Error(`warm-up query: ${res.status}`);
      if (res.json.cached !== true) missed.push(query);
    }
    pending = missed;
  }
  if (pending.length > 0) throw new Error(`${pending.length} questions never hit the query cache`);
  for (let i = 0; i < 300; i++)
    await post(`${url}/v1/query`, { collection, query: questions[i % questions.length] }, token);
}

export interface SideSummary {
  readonly side: SecuritySide;
  /** Means over the rounds of the open-model runs. */
  readonly p50Ms: number;
  readonly p95Ms: number;
  /** Added to the baseline's p50 (0 for the baseline itself). */
  readonly addedP50Ms: number;
  readonly addedP95Ms: number;
  /** Closed model: mean requests/s over the rounds, and its ratio to the baseline's. */
  readonly maxThroughputPerSecond: number;
  readonly maxThroughputRatio: number;
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const round3 = (x: number) => Math.round(x * 1000) / 1000;

export function summarizeSides(
  scenarios: readonly (ScenarioResult & { side: SecuritySide; closed: boolean })[],
): SideSummary[] {
  const of = (side: SecuritySide, closed: boolean) =>
    scenarios.filter((s) => s.side === side && s.closed === closed);
  const base = {
    p50: mean(of('baseline', false).map((s) => s.p50Ms)),
    p95: mean(of('baseline', false).map((s) => s.p95Ms)),
    max: mean(of('baseline', true).map((s) => s.throughputPerSecond)),
  };
  return securitySides.map((side) => {
    const p50 = mean(of(side, false).map((s) => s.p50Ms));
    const p95 = mean(of(side, false).map((s) => s.p95Ms));
    const max = mean(of(side, true).map((s) => s.throughputPerSecond));
    return {
      side,
      p50Ms: round3(p50),
      p95Ms: round3(p95),
      addedP50Ms: round3(p50 - base.p50),
      addedP95Ms: round3(p95 - base.p95),
      maxThroughputPerSecond: Math.round(max),
      maxThroughputRatio: round3(max / base.max),
    };
  });
}

export async function runSecurityBench(): Promise<void> {
  const scaleName = process.env.BENCH_SCALE === 'small' ? 'small' : 'full';
  const scale = scales[scaleName];
  const rate = setting('BENCH_CACHED_RATE', 200);
  const vus = setting('BENCH_VUS', 8);
  const seconds = setting('BENCH_SECURITY_SECONDS', scale.rateSeconds);
  const rounds = setting('BENCH_SECURITY_ROUNDS', 2);
  const resultsPath = path.resolve(
    process.env.BENCH_RESULTS_PATH ?? path.join(__dirname, '../../bench-results/security.json'),
  );
  const loadBefore = loadavg();
  console.log(
    `bench security: ${scaleName} scale, ${cpus().length} CPUs, load average ` +
      loadBefore.map((l) => l.toFixed(2)).join(' '),
  );

  const services = await acquireBackingServices();
  const cleanup: (() => Promise<unknown>)[] = [() => services.release()];
  const workDir = mkdtempSync(path.join(tmpdir(), 'rag-bench-security-'));
  cleanup.push(async () => rmSync(workDir, { recursive: true, force: true }));
  try {
    const database = await createThrowawayDatabase(services);
    cleanup.push(() => database.drop());
    const env = {
      ...database.serviceEnv,
      REDIS_URL: services.redisUrl,
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'warn',
      SEED_DEMO_CORPUS: 'false',
    };
    const secured = await startService(
      loadConfig({
        ...env,
        RATE_LIMIT_ENABLED: 'true',
        RATE_LIMIT_TIERS: JSON.stringify({
          default: looseTier,
          standard: looseTier,
          ip: looseTier,
        }),
      }),
    );
    cleanup.push(() => secured.close());
    await ensureRunKey(database.primaryUrl);

    const created = await post(`${secured.url}/v1/collections`, { id: collection });
    if (created.status !== 201) throw new Error(`create collection: ${created.status}`);
    const corpus = benchCorpus(scale.chunks, {
      size: secured.config.CHUNK_SIZE,
      overlap: secured.config.CHUNK_OVERLAP,
    });
    await ingestThroughApi({
      baseUrl: secured.url,
      collection,
      documents: corpus.documents,
      primaryUrl: database.primaryUrl,
      concurrency: 4,
      timeoutMs: 120_000,
    });
    await database.replicaCaughtUp();

    // Started once the corpus is in: it builds its index from the database, as a new replica does.
    const principal: Principal = {
      id: randomUUID(),
      superAdmin: true,
      roles: {},
      credential: { kind: 'api-key', id: 'bench' },
      tier: 'standard',
    };
    const baseline = await startService(loadConfig({ ...env, RATE_LIMIT_ENABLED: 'false' }), {
      unauthenticatedPrincipal: principal,
    });
    cleanup.push(() => baseline.close());
    await Promise.all([ready(secured), ready(baseline)]);

    const issued = await fetch(`${secured.url}/v1/auth/token`, {
      method: 'POST',
      headers: { authorization: `Bearer ${runApiKey}` },
    });
    if (issued.status !== 200) throw new Error(`issue an access token: ${issued.status}`);
    const { accessToken } = (await issued.json()) as { accessToken: string };

    const random = seededRandom(7);
    const questions = Array.from(
      { length: questionCount },
      (_, i) => `${syntheticText(random, 50)} ${i}`,
    );
    const targets: Record<SecuritySide, { url: string; token: string }> = {
      // No credential: the baseline is authenticated as its fixed principal, or not at all.
      baseline: { url: baseline.url, token: '' },
      'api key': { url: secured.url, token: runApiKey },
      jwt: { url: secured.url, token: accessToken },
    };
    for (const side of securitySides) await warmUp(side, targets[side], questions);

    const questionsFile = path.join(workDir, 'questions.json');
    writeFileSync(questionsFile, JSON.stringify({ collection, questions, runId: 'unused' }));
    // ABC, CBA, ABC...: each side is as often early as late in the run.
    const order = (r: number) => (r % 2 === 0 ? securitySides : [...securitySides].reverse());
    const plan: (LoadScenario & { side: SecuritySide; closed: boolean })[] = [];
    for (const closed of [false, true])
      for (let r = 0; r < rounds; r++)
        for (const side of order(r))
          plan.push({
            name: `${side}${closed ? ' max' : ''} #${r + 1}`,
            side,
            closed,
            target: 'cached',
            baseUrl: targets[side].url,
            apiToken: targets[side].token,
            questionsFile,
            seconds: closed ? scale.maxSeconds : seconds,
            ...(closed ? { vus } : { rate }),
          });
    const scenarios: (ScenarioResult & { side: SecuritySide; closed: boolean })[] = [];
    for (const scenario of plan) {
      process.stdout.write(`k6: ${scenario.name}…`);
      const result = await runLoadScenario(scenario);
      scenarios.push({ ...result, side: scenario.side, closed: scenario.closed });
      process.stdout.write(' done\n');
    }

    const sides = summarizeSides(scenarios);
    const loadAfter = loadavg();
    const results = {
      finishedAt: new Date().toISOString(),
      run: 'security',
      scale: scaleName,
      machine: {
        cpus: cpus().length,
        node: process.version,
        loadAverageBefore: loadBefore,
        loadAverageAfter: loadAfter,
      },
      rate,
      vus,
      scenarios,
      sides,
    };
    console.log(`\n${formatTable(scenarios)}\n`);
    console.log(
      'side'.padEnd(10) +
        ['p50 ms', 'p95 ms', '+p50 ms', '+p95 ms', 'max req/s', 'max ratio']
          .map((h) => h.padStart(11))
          .join(''),
    );
    for (const s of sides)
      console.log(
        s.side.padEnd(10) +
          [s.p50Ms, s.p95Ms, s.addedP50Ms, s.addedP95Ms, s.maxThroughputPerSecond]
            .map((x) => String(x).padStart(11))
            .join('') +
          s.maxThroughputRatio.toFixed(3).padStart(11),
      );
    for (const s of sides.filter((x) => x.side !== 'baseline'))
      console.log(
        `authentication (${s.side}) + rate limiting add ${s.addedP50Ms.toFixed(3)} ms at p50`,
      );
    console.log(`load average after: ${loadAfter.map((l) => l.toFixed(2)).join(' ')}`);
    mkdirSync(path.dirname(resultsPath), { recursive: true });
    writeFileSync(resultsPath, JSON.stringify(results, null, 2) + '\n');
    console.log(`wrote ${path.relative(process.cwd(), resultsPath)}`);
  } finally {
    for (const close of cleanup.reverse()) {
      await close().catch((err: unknown) => console.error('cleanup failed:', err));
    }
  }
}
