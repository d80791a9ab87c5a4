// Load generator of `npm run bench` (app/bench/run.ts), one target per run:
//   BENCH_TARGET=cached    POST /v1/query with questions the bench already asked (cache hits)
//   BENCH_TARGET=uncached  POST /v1/query, a question never asked before (embed, search, answer)
//   BENCH_TARGET=hello     GET /hello on a bare Express app (the floor the API is compared with)
// Open model (RATE requests/s, constant-arrival-rate) unless VUS is set: then closed model, VUS
// users back to back, which measures the maximum throughput. DURATION, BASE_URL, QUESTIONS_FILE.
// No thresholds: the bench reports numbers and compares them with its targets itself.
// STATUS_ONLY=true: bodies are discarded and only the status is checked (hello and cached), for a
// service that hides `cached` as production does; the bench reads its cache hits from /metrics.
/* global open */
import http from 'k6/http';
import { check } from 'k6';
import { summaryTrendStats } from './lib/slo-thresholds.js';
import { query, routes } from './lib/rag-api.js';
import { baseUrl, defaultHeaders, envDuration, envNumber } from './lib/target.js';

const target = __ENV.BENCH_TARGET;
if (!['cached', 'uncached', 'hello'].includes(target)) {
  throw new Error('BENCH_TARGET must be cached, uncached or hello');
}
const duration = envDuration('DURATION', '30s');
const workload = target === 'hello' ? {} : JSON.parse(open(__ENV.QUESTIONS_FILE));

const scenario = __ENV.VUS
  ? { executor: 'constant-vus', vus: envNumber('VUS', 8), duration }
  : {
      executor: 'constant-arrival-rate',
      rate: envNumber('RATE', 200),
      timeUnit: '1s',
      duration,
      preAllocatedVUs: 20,
      maxVUs: envNumber('MAX_VUS', 100),
    };

export const options = { scenarios: { bench: scenario }, summaryTrendStats };

const sequence = () => __VU * 1_000_000 + __ITER;

// The load generator shares the machine with the service: a cached answer is checked by its first
// bytes (the service writes `cached` first when diagnostics are exposed) instead of parsed and
// walked, so k6 spends about as much on it as on /hello and the comparison measures the servers.
const cachedBodies =
  target === 'cached'
    ? workload.questions.map((q) =>
        JSON.stringify({ collection: workload.collection, query: q, topK: 5 }),
      )
    : [];
const statusOnly = __ENV.STATUS_ONLY === 'true';
const discard = statusOnly ? { responseType: 'none' } : {};
const cachedParams = {
  headers: defaultHeaders(),
  tags: { route: routes.query, name: `POST ${routes.query}` },
  ...discard,
};
const helloParams = { tags: { name: 'GET /hello' }, ...discard };

export default function () {
  if (target === 'hello') {
    const res = http.get(`${baseUrl}/hello`, helloParams);
    check(res, { 'hello: 200': (r) => r.status === 200 });
    return;
  }
  const n = sequence();
  if (target === 'cached') {
    const res = http.post(
      `${baseUrl}${routes.query}`,
      cachedBodies[n % cachedBodies.length],
      cachedParams,
    );
    check(
      res,
      statusOnly
        ? { 'query: 200': (r) => r.status === 200 }
        : { 'query: cached': (r) => r.status === 200 && r.body.startsWith('{"cached":true,') },
    );
    return;
  }
  // Questions are about the bench's own corpus; a unique suffix makes each one miss the cache.
  const question = workload.questions[n % workload.questions.length];
  const body = query(workload.collection, `${question} ${workload.runId}-${n}`);
  check(body, { 'query: uncached': (b) => b?.cached === false });
}
