// Smoke run: a short, low-rate pass over the whole API (health, create a collection, ingest, wait
// until indexed, query) that must meet the SLO thresholds. The staging deploy runs it after every
// rollout:  k6 run --env BASE_URL=https://… loadtest/k6/smoke.js
// Settings: BASE_URL (default http://127.0.0.1:8080), API_TOKEN, SMOKE_ITERATIONS (default 10),
// INDEX_TIMEOUT_SECONDS (default 60), SUMMARY_PATH (write the JSON summary there).
import { sleep } from 'k6';
import { commonQuestion, runbook, topicCount } from './lib/corpus.js';
import {
  checkHealth,
  deleteCollection,
  ingestDocument,
  query,
  seedCollection,
  waitQueueDrained,
} from './lib/rag-api.js';
import { loadTestThresholds, summaryTrendStats } from './lib/slo-thresholds.js';
import { summaryOutputs } from './lib/summary.js';
import { envNumber } from './lib/target.js';

const seedDocuments = 3;
const indexTimeoutSeconds = envNumber('INDEX_TIMEOUT_SECONDS', 60);

export const options = {
  scenarios: {
    smoke: {
      executor: 'per-vu-iterations',
      vus: 1,
      iterations: envNumber('SMOKE_ITERATIONS', 10),
      maxDuration: '2m',
    },
  },
  setupTimeout: `${indexTimeoutSeconds + 30}s`,
  teardownTimeout: `${indexTimeoutSeconds + 30}s`,
  thresholds: loadTestThresholds(),
  summaryTrendStats,
};

export function setup() {
  const collection = seedCollection('smoke', seedDocuments, runbook, indexTimeoutSeconds);
  return { collection };
}

export default function ({ collection }) {
  checkHealth();
  query(collection, commonQuestion(__ITER, Math.min(seedDocuments, topicCount)));
  // A new document per iteration keeps the ingest route under test, not just the seed.
  ingestDocument(collection, { ...runbook(seedDocuments + __ITER, 1), source: `smoke/${__ITER}` });
  sleep(0.2);
}

export function teardown({ collection }) {
  // Deleting while jobs are in flight would turn them into failures the smoke run caused itself.
  waitQueueDrained(collection, indexTimeoutSeconds);
  deleteCollection(collection);
}

export function handleSummary(data) {
  return summaryOutputs(data);
}
