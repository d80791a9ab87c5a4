// Load generator of `npm run bench` (app/bench/run.ts), one target per run:
//   BENCH_TARGET=cached    POST /v1/query with questions the bench already asked (cache hits)
//   BENCH_TARGET=uncached  POST /v1/query, a question never asked before (embed, search, answer)
//   BENCH_TARGET=hello     GET /hello on a bare Express app (the floor the API is compared with)
// Open model (RATE requests/s, constant-arrival-rate) unless VUS is set: then closed model, VUS
// users back to back, which measures the maximum throughput. DURATION, BASE_URL, QUESTIONS_FILE.
// No thresholds: the bench reports numbers and compares them with its targets itself.
/* global open */
import http from 'k6/http';
import { check } from 'k6';
import { query } from './lib/rag-api.js';
import { summaryTrendStats } from './lib/slo-thresholds.js';
import { baseUrl, envDuration, envNumber } from './lib/target.js';

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

export default function () {
  if (target === 'hello') {
    const res = http.get(`${baseUrl}/hello`, { tags: { name: 'GET /hello' } });
    check(res, { 'hello: 200': (r) => r.status === 200 });
    return;
  }
  const n = sequence();
  // Questions are about the bench's own corpus; a unique suffix makes an uncached one miss the cache.
  const question = workload.questions[n % workload.questions.length];
  const text = target === 'cached' ? question : `${question} ${workload.runId}-${n}`;
  const body = query(workload.collection, text);
  check(body, { [`query: ${target}`]: (b) => b?.cached === (target === 'cached') });
}
