// SLA validation: sustained load at fixed arrival rates, judged by the SLO thresholds generated
// from catalog/slo. Scenarios run one after another, each for DURATION:
//   query   POST /v1/query at QUERY_RATE/s, CACHE_HIT_RATIO of them repeated questions (cache hits)
//   ingest  POST …/documents at INGEST_RATE/s (new documents, queued for indexing)
//   mixed   MIXED_RATE/s, one in ten an ingest, the rest queries, as on a busy day
//   k6 run --env BASE_URL=… --env SUMMARY_PATH=sla-summary.json loadtest/k6/sla.js
// Other settings: SCENARIOS (comma list, default all), API_TOKEN, SEED_DOCUMENTS (default 30),
// INDEX_TIMEOUT_SECONDS (default 120), MAX_VUS (default 50).
import { commonQuestion, runbook, topicCount, uniqueQuestion } from './lib/corpus.js';
import {
  deleteCollection,
  ingestDocument,
  query,
  seedCollection,
  waitQueueDrained,
} from './lib/rag-api.js';
import { loadTestThresholds, summaryTrendStats } from './lib/slo-thresholds.js';
import { summaryOutputs } from './lib/summary.js';
import { envDuration, envNumber } from './lib/target.js';

const duration = envDuration('DURATION', '1m');
const seedDocuments = envNumber('SEED_DOCUMENTS', 30);
const indexTimeoutSeconds = envNumber('INDEX_TIMEOUT_SECONDS', 120);
const cacheHitRatio = Number(__ENV.CACHE_HIT_RATIO ?? 0.8);
const maxVUs = envNumber('MAX_VUS', 50);
const selected = (__ENV.SCENARIOS || 'query,ingest,mixed').split(',').map((s) => s.trim());

const available = {
  query: { exec: 'queryLoad', rate: envNumber('QUERY_RATE', 50) },
  ingest: { exec: 'ingestLoad', rate: envNumber('INGEST_RATE', 5) },
  mixed: { exec: 'mixedLoad', rate: envNumber('MIXED_RATE', 30) },
};
for (const name of selected) {
  if (!available[name]) throw new Error(`unknown scenario '${name}' in SCENARIOS`);
}

const seconds = (d) => Number(d.slice(0, -1)) * { s: 1, m: 60, h: 3600 }[d.slice(-1)] || 1;

/** One constant-arrival-rate scenario per selected name, each starting when the previous ends. */
function scenarios() {
  const out = {};
  selected.forEach((name, i) => {
    const { exec, rate } = available[name];
    out[name] = {
      executor: 'constant-arrival-rate',
      exec,
      rate,
      timeUnit: '1s',
      duration,
      startTime: `${i * seconds(duration)}s`,
      preAllocatedVUs: Math.min(maxVUs, Math.max(2, Math.ceil(rate / 10))),
      maxVUs,
    };
  });
  return out;
}

export const options = {
  scenarios: scenarios(),
  setupTimeout: `${indexTimeoutSeconds + 60}s`,
  teardownTimeout: `${indexTimeoutSeconds + 30}s`,
  thresholds: loadTestThresholds(),
  summaryTrendStats,
};

export function setup() {
  const collection = seedCollection('sla', seedDocuments, runbook, indexTimeoutSeconds);
  return { collection, runId: Date.now().toString(36) };
}

// Iteration numbers are per VU; with the VU id they make every unique question and document unique.
const sequence = () => __VU * 1_000_000 + __ITER;

// Questions stay on the topics the seed documents cover, so every answer has citations.
const covered = Math.min(seedDocuments, topicCount);

function askOne({ collection, runId }) {
  const n = sequence();
  const text =
    Math.random() < cacheHitRatio
      ? commonQuestion(n % (covered * 4), covered)
      : uniqueQuestion(n, runId, covered);
  query(collection, text);
}

function ingestOne({ collection, runId }) {
  const n = sequence();
  ingestDocument(collection, { ...runbook(n % 1000, 2), source: `sla/${runId}/${n}` });
}

export function queryLoad(data) {
  askOne(data);
}

export function ingestLoad(data) {
  ingestOne(data);
}

export function mixedLoad(data) {
  if (Math.random() < 0.1) ingestOne(data);
  else askOne(data);
}

export function teardown({ collection }) {
  waitQueueDrained(collection, indexTimeoutSeconds);
  deleteCollection(collection);
}

export function handleSummary(data) {
  return summaryOutputs(data);
}
