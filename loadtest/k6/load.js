// The load test suite: one traffic shape per PROFILE, all judged by the SLO thresholds generated
// from catalog/slo, on their steady windows only (ramps excluded), each writing an SLA report.
//
//   k6 run --env PROFILE=average --env BASE_URL=https://… --env REPORT_DIR=reports/x loadtest/k6/load.js
//   npm run load -- average            the same on a local stack brought up for the run
//
// Profiles (lib/profiles.js): smoke (RATE 2/s for DURATION 30s), average (RATE 50/s), stress
// (RATE 150/s), soak (RATE 30/s for 1h), spike (RATE 20/s, SPIKE_RATE 200/s), breakpoint (arrival
// rate from RATE_START by RATE_STEP to RATE_MAX, STEP_HOLD each, until the SLOs break) and users
// (USERS concurrent users, each asking a question then thinking THINK_TIME, 1 s).
// Workload: COLLECTIONS (3) collections of SEED_DOCUMENTS (12) runbooks each; INGEST_SHARE of the
// iterations (0.05; smoke 0.2, users 0) ingest a new document, the others ask a question, a
// repeated one (cache hit once asked) with probability REPEAT_SHARE (0.8) or a new one. API_TOKEN,
// MAX_VUS, REQUEST_TIMEOUT (10s), INDEX_TIMEOUT_SECONDS (120), REPORT_DIR (an existing directory:
// summary.json, report.json, report.md), SUMMARY_PATH (the raw summary only).
import exec from 'k6/execution';
import { sleep } from 'k6';
import { Gauge, Rate } from 'k6/metrics';
import { commonQuestion, runbook, topicCount, uniqueQuestion } from './lib/corpus.js';
import {
  deleteCollection,
  ingestDocument,
  query,
  routes,
  seedCollection,
  waitQueueDrained,
} from './lib/rag-api.js';
import {
  bucketCount,
  bucketLabel,
  bucketSeconds,
  profile,
  seconds,
  stepLabel,
  windowAt,
} from './lib/profiles.js';
import { buildReport, renderMarkdown, renderText, reportedSubMetrics } from './lib/report.js';
import { steadySloThresholds, summaryTrendStats, withBookkeeping } from './lib/slo-thresholds.js';
import { baseUrls, envDuration, envNumber } from './lib/target.js';

const profileName = __ENV.PROFILE || 'smoke';
const { kind, plan: schedule, scenario } = profile(profileName);
const plan = {
  ...schedule,
  bucketSeconds: bucketSeconds(schedule),
  bucketCount: bucketCount(schedule),
};

function share(name, fallback) {
  const value = Number(__ENV[name] ?? fallback);
  if (!(value >= 0 && value <= 1)) throw new Error(`${name} must be between 0 and 1`);
  return value;
}

const collectionCount = envNumber('COLLECTIONS', 3);
const seedDocuments = envNumber('SEED_DOCUMENTS', 12);
const indexTimeoutSeconds = envNumber('INDEX_TIMEOUT_SECONDS', 120);
const defaultIngestShare = { smoke: 0.2, users: 0 }[profileName] ?? 0.05;
const ingestShare = share('INGEST_SHARE', defaultIngestShare);
const repeatShare = share('REPEAT_SHARE', 0.8);
const thinkTime = seconds(envDuration('THINK_TIME', '1s'));
const covered = Math.min(seedDocuments, topicCount);

// The endpoints the load drives (an ingest share of 0 leaves the ingest route out on purpose).
const endpoints = [
  { method: 'POST', route: routes.query },
  ...(ingestShare > 0 ? [{ method: 'POST', route: routes.documents }] : []),
];

// Whether each answer came from the query cache, as the service says in the answer itself.
const queryCached = new Rate('rag_query_cached');
// How far into the scenario the run got (its max), for runs that stop before the plan's end.
const elapsedSeconds = new Gauge('rag_load_elapsed_seconds');

export const options = {
  scenarios: { [profileName]: { ...scenario, exec: 'load' } },
  setupTimeout: `${indexTimeoutSeconds * collectionCount + 60}s`,
  teardownTimeout: `${indexTimeoutSeconds + 60}s`,
  thresholds: withBookkeeping(
    steadySloThresholds({ abortLatency: kind !== 'sla' }),
    reportedSubMetrics({ plan, endpoints }),
  ),
  summaryTrendStats,
  // The tags the thresholds and the report select on (method, route and the window tags are set on
  // every request; expected_response decides http_req_failed), and no others: k6 builds and
  // matches every sample's tag set, which at thousands of requests a second on the machine under
  // test costs the service CPU.
  systemTags: ['method', 'status', 'name', 'check', 'error_code', 'expected_response', 'scenario'],
};

export function setup() {
  const collections = [];
  for (let c = 0; c < collectionCount; c++) {
    // Each collection gets runbooks of its own (different text, same topics to ask about).
    collections.push(
      seedCollection('load', seedDocuments, (n) => runbook(c * 100 + n), indexTimeoutSeconds),
    );
  }
  return { collections, runId: Date.now().toString(36) };
}

// What this VU last tagged: k6 rebuilds the VU's tag set on every assignment, so a tag is set only
// when its value changes. And when the scenario started, read once: each read of `exec.scenario`
// or `exec.vu` builds a fresh object in k6 (8% of its CPU in a 1,750-user run read them per
// iteration).
const tagged = { phase: undefined, step: undefined, bucket: undefined };
let scenarioStart;

/** Tags this iteration's requests with the window and time bucket it runs in. */
function tagWindow() {
  scenarioStart ??= exec.scenario.startTime;
  const elapsed = (Date.now() - scenarioStart) / 1000;
  elapsedSeconds.add(elapsed);
  const w = windowAt(plan, elapsed);
  const next = {
    phase: w.phase,
    step: w.step === undefined ? 'none' : stepLabel(w.step),
    bucket: bucketLabel(Math.min(plan.bucketCount - 1, Math.floor(elapsed / plan.bucketSeconds))),
  };
  for (const name of ['phase', 'step', 'bucket']) {
    if (tagged[name] !== next[name]) {
      exec.vu.metrics.tags[name] = next[name];
      tagged[name] = next[name];
    }
  }
}

const sequence = () => __VU * 1_000_000 + __ITER;
const pick = (list) => list[Math.floor(Math.random() * list.length)];

function askOne({ collections, runId }) {
  const n = sequence();
  const text =
    Math.random() < repeatShare
      ? commonQuestion(Math.floor(Math.random() * covered * 4), covered)
      : uniqueQuestion(n, runId, covered);
  const body = query(pick(collections), text);
  if (body && typeof body.cached === 'boolean') queryCached.add(body.cached);
}

function ingestOne({ collections, runId }) {
  const n = sequence();
  ingestDocument(pick(collections), { ...runbook(n % 1000, 2), source: `load/${runId}/${n}` });
}

/** Exactly INGEST_SHARE of the iterations ingest, spread evenly (a short run still ingests). */
function ingestTurn() {
  if (ingestShare === 0) return false;
  const i = exec.scenario.iterationInTest;
  return Math.floor((i + 1) * ingestShare) > Math.floor(i * ingestShare);
}

export function load(data) {
  tagWindow();
  if (ingestTurn()) ingestOne(data);
  else askOne(data);
  if (kind === 'users') sleep(thinkTime);
}

export function teardown({ collections }) {
  // Deleting while jobs are in flight would turn them into failures the run caused itself.
  for (const collection of collections) {
    waitQueueDrained(collection, indexTimeoutSeconds);
    deleteCollection(collection);
  }
}

export function handleSummary(data) {
  const report = buildReport(data, {
    profile: profileName,
    kind,
    plan,
    endpoints,
    baseUrl: baseUrls.join(', '),
    settings: {
      PROFILE: profileName,
      executor: scenario.executor,
      stages: plan.stages.map((s) => `${s.duration}→${s.target}`).join(' '),
      COLLECTIONS: collectionCount,
      SEED_DOCUMENTS: seedDocuments,
      INGEST_SHARE: ingestShare,
      REPEAT_SHARE: repeatShare,
      ...(kind === 'users' ? { THINK_TIME: `${thinkTime}s` } : {}),
      MAX_VUS: scenario.maxVUs ?? '–',
    },
  });
  const dir = (__ENV.REPORT_DIR || '').replace(/\/+$/, '');
  const files = dir
    ? {
        [`${dir}/summary.json`]: JSON.stringify(data, null, 2),
        [`${dir}/report.json`]: JSON.stringify(report, null, 2),
        [`${dir}/report.md`]: renderMarkdown(report),
      }
    : {};
  if (__ENV.SUMMARY_PATH) files[__ENV.SUMMARY_PATH] = JSON.stringify(data, null, 2);
  return { ...files, stdout: renderText(report, Object.keys(files)) };
}
