import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { authHeaders, runApiKey } from '../../app/test/support/test-credential';
import { startTestService } from '../../app/test/support/test-service';
import { eventually } from '../../test-support/eventually';
import { failedThresholds, generatedThresholds, runK6, sampleCount } from './support/k6';

type RunningService = Awaited<ReturnType<typeof startTestService>>;

// The staging smoke run, for real: k6 against the service on the run's Postgres primary + replica
// and Redis. It must pass every SLO threshold, and each threshold must have judged real requests
// (k6 passes a threshold over a metric without samples, so an untagged request would pass silently).
describe('k6 smoke.js against the real service', function () {
  this.timeout(90_000);
  let service: RunningService;

  before(async () => {
    service = await startTestService({ QUEUE_CONCURRENCY: '2' });
  });
  after(async () => {
    await service?.close();
  });

  async function smokeCollections(): Promise<string[]> {
    const ids: string[] = [];
    let cursor: string | null = null;
    do {
      const url = new URL('/v1/collections', service.url);
      url.searchParams.set('limit', '100');
      if (cursor) url.searchParams.set('cursor', cursor);
      const body = (await (await fetch(url, { headers: authHeaders() })).json()) as {
        items: { id: string }[];
        nextCursor: string | null;
      };
      ids.push(...body.items.map((c) => c.id).filter((id) => id.startsWith('smoke-')));
      cursor = body.nextCursor;
    } while (cursor);
    return ids.sort();
  }

  it('exits 0 with every SLO threshold met on real traffic, and cleans up after itself', async () => {
    const before = await smokeCollections();
    const run = await runK6('loadtest/k6/smoke.js', {
      BASE_URL: service.url,
      API_TOKEN: runApiKey,
      SMOKE_ITERATIONS: '5',
    });
    assert.equal(run.code, 0, run.output);
    assert.deepEqual(failedThresholds(run.summary), [], run.output);
    for (const [metric, expressions] of Object.entries(generatedThresholds())) {
      const exported = run.summary.metrics[metric];
      assert.ok(exported, `${metric} missing from the summary`);
      assert.deepEqual(Object.keys(exported.thresholds ?? {}), expressions);
      assert.ok(sampleCount(exported) >= 5, `${metric} judged ${sampleCount(exported)} requests`);
    }
    const checks = run.summary.metrics.checks;
    assert.ok(checks.passes > 20, `only ${checks.passes} checks ran`);
    assert.equal(checks.fails, 0, run.output);
    // Teardown deletes the collection setup created (staging must not accumulate smoke data).
    // Listings come from the replica, which shows the delete once it has replayed it.
    let after: string[] = [];
    await eventually(
      async () => {
        after = await smokeCollections();
        return JSON.stringify(after) === JSON.stringify(before);
      },
      { what: 'the smoke collection gone from the listing' },
    ).catch(() => undefined); // the assertion below shows what is left
    assert.deepEqual(after, before);
  });

  it('sla.js runs its three scenarios on the real service and writes its JSON summary', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sla-'));
    try {
      const summaryPath = path.join(dir, 'sla-summary.json');
      // A miniature of the SLA run: the scenarios, tags and summary are what matter here.
      const run = await runK6('loadtest/k6/sla.js', {
        BASE_URL: service.url,
        API_TOKEN: runApiKey,
        DURATION: '2s',
        QUERY_RATE: '10',
        INGEST_RATE: '3',
        MIXED_RATE: '10',
        SEED_DOCUMENTS: '3',
        SUMMARY_PATH: summaryPath,
      });
      assert.equal(run.code, 0, run.output);
      assert.deepEqual(failedThresholds(run.summary), [], run.output);
      assert.ok(existsSync(summaryPath), 'handleSummary wrote no file at SUMMARY_PATH');
      const written = JSON.parse(readFileSync(summaryPath, 'utf8'));
      for (const metric of Object.keys(generatedThresholds())) {
        assert.ok(written.metrics[metric]?.thresholds, `${metric} missing from the JSON summary`);
      }
      assert.match(run.output, /all thresholds passed/);
      // 3 seed documents, then ~6 from the ingest scenario (3/s for 2 s) and a few mixed ones.
      const ingest =
        run.summary.metrics[
          'http_req_failed{method:POST,route:/v1/collections/:collectionId/documents}'
        ];
      assert.ok(sampleCount(ingest) >= 3 + 6, `only ${sampleCount(ingest)} ingest requests`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
