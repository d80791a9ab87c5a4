import assert from 'node:assert/strict';
import type { RunningService } from '../../src/service';
import { apiClient } from '../support/http-client';
import { startPrivateServices, type PrivateServices } from '../support/private-services';
import { forMinutes, promtoolAlertFiresOn, recordDependencyGauge } from '../support/recorded-alert';
import { freePort } from '../support/service-process';
import { eventually, startTestService, uniqueName } from '../support/test-service';

// One owner of dependency state: under each fault the gauge holds one value for as long as the
// fault lasts (sampled at twice the probe cadence), /readyz says the same, and the alert built on
// the gauge fires when promtool replays what the service really exposed.

const checkIntervalMs = 200;

function settings(services: PrivateServices, extra: Record<string, string> = {}) {
  return {
    DATABASE_URL: services.env.DATABASE_URL,
    DATABASE_REPLICA_URLS: services.env.DATABASE_REPLICA_URLS,
    MIGRATION_DATABASE_URL: services.env.MIGRATION_DATABASE_URL,
    REDIS_URL: services.env.REDIS_URL,
    DEPENDENCY_CHECK_INTERVAL_MS: String(checkIntervalMs),
    DATABASE_REPLICA_CHECK_INTERVAL_MS: String(checkIntervalMs),
    SHUTDOWN_DEADLINE_MS: '2000',
    ...extra,
  };
}

/** /readyz and rag_dependency_up say the same thing about every dependency. */
async function assertReadinessAgreesWithGauge(api: ReturnType<typeof apiClient>) {
  const [ready, metrics] = await Promise.all([api.get('/readyz'), api.get('/metrics')]);
  for (const [name, dep] of Object.entries(
    ready.body.dependencies as Record<string, { state: string }>,
  )) {
    const series = `rag_dependency_up{dependency="${name}"} `;
    const line = metrics.text.split('\n').find((l) => l.startsWith(series));
    assert.equal(Number(line?.slice(series.length)), dep.state === 'up' ? 1 : 0, name);
  }
}

/** Enough samples for the alert's `for:` at one sample per minute, and at least 10 probe cycles. */
async function recordFault(service: RunningService, dependency: string, alert: string) {
  const samples = Math.max(forMinutes(alert) + 3, 20);
  return recordDependencyGauge(service.url, dependency, {
    samples,
    everyMs: checkIntervalMs / 2,
  });
}

describe('one owner of dependency state', function () {
  this.timeout(120_000);
  let services: PrivateServices;
  let service: RunningService | undefined;

  before(async () => {
    services = await startPrivateServices();
  });
  afterEach(async () => {
    await service?.close();
    service = undefined;
  });
  after(async () => {
    await services?.down();
  });

  it('one replica lagging: postgres_replica holds 0, readiness degraded, PostgresReplicaDown fires', async () => {
    service = await startTestService(settings(services, { DATABASE_REPLICA_MAX_LAG_SECONDS: '1' }));
    const api = apiClient(service.url);
    await services.sql('replica', 'SELECT pg_wal_replay_pause()');
    try {
      // Replay is paused, so this write is received but never applied: the lag grows from now on.
      await services.sql('primary', 'CREATE TABLE IF NOT EXISTS lag_marker (at timestamptz)');
      await services.sql('primary', 'INSERT INTO lag_marker VALUES (now())');
      await eventually(
        async () => (await api.get('/readyz')).body.dependencies.postgres_replica?.state === 'down',
        { what: 'the replica to count as lagging' },
      );
      const values = await recordFault(service, 'postgres_replica', 'PostgresReplicaDown');
      assert.deepEqual(new Set(values), new Set([0]), `the gauge moved: ${values.join(' ')}`);
      const ready = await api.get('/readyz');
      assert.equal(ready.status, 200, 'reads fall back to the primary: still serving');
      assert.equal(ready.body.status, 'degraded');
      assert.equal(ready.body.dependencies.postgres_replica.detail.replicas[0].state, 'degraded');
      assert.equal(ready.body.dependencies.postgres_replica.detail.readTarget, 'primary');
      await assertReadinessAgreesWithGauge(api);
      const verdict = promtoolAlertFiresOn('PostgresReplicaDown', 'postgres_replica', values);
      assert.ok(verdict.fires, verdict.output);
    } finally {
      await services.sql('replica', 'SELECT pg_wal_replay_resume()');
    }
  });

  it('one of two replicas down: postgres_replica holds 0, readiness degraded, PostgresReplicaDown fires', async () => {
    const deadReplica = `postgres://postgres@127.0.0.1:${await freePort()}/rag`;
    service = await startTestService(
      settings(services, {
        DATABASE_REPLICA_URLS: `${services.env.DATABASE_REPLICA_URLS},${deadReplica}`,
      }),
    );
    const api = apiClient(service.url);
    await eventually(
      async () =>
        (await api.get('/readyz')).body.dependencies.postgres_replica?.state === 'degraded',
      { what: 'one replica of two to count as down' },
    );
    const values = await recordFault(service, 'postgres_replica', 'PostgresReplicaDown');
    assert.deepEqual(new Set(values), new Set([0]), `the gauge moved: ${values.join(' ')}`);
    const ready = await api.get('/readyz');
    assert.equal(ready.status, 200);
    assert.equal(ready.body.status, 'degraded');
    assert.deepEqual(
      ready.body.dependencies.postgres_replica.detail.replicas.map(
        (r: { state: string }) => r.state,
      ),
      ['up', 'down'],
    );
    assert.equal(ready.body.dependencies.postgres_replica.detail.readTarget, 'replica');
    await assertReadinessAgreesWithGauge(api);
    const verdict = promtoolAlertFiresOn('PostgresReplicaDown', 'postgres_replica', values);
    assert.ok(verdict.fires, verdict.output);
  });

  it('vector store unreachable: a query is a 503 problem, vector_store holds 0, VectorStoreDown fires', async () => {
    service = await startTestService(
      settings(services, {
        QDRANT_URL: `http://127.0.0.1:${await freePort()}`,
        QDRANT_TIMEOUT_MS: '500',
      }),
    );
    const api = apiClient(service.url);
    const collection = uniqueName('no-qdrant');
    assert.equal((await api.post('/v1/collections', { id: collection })).status, 201);
    const res = await api.post('/v1/query', { collection, query: 'where are the vectors?' });
    const values = await recordFault(service, 'vector_store', 'VectorStoreDown');
    assert.deepEqual(new Set(values), new Set([0]), `the gauge moved: ${values.join(' ')}`);
    const ready = await api.get('/readyz');
    assert.equal(ready.status, 200, 'every pod shares Qdrant: leaving rotation helps nobody');
    assert.equal(ready.body.status, 'degraded');
    assert.equal(ready.body.dependencies.vector_store.state, 'down');
    await assertReadinessAgreesWithGauge(api);
    const verdict = promtoolAlertFiresOn('VectorStoreDown', 'vector_store', values);
    assert.ok(verdict.fires, verdict.output);
    // Last, because the mapping of an unreachable store to a problem lives in the adapter and HTTP layers.
    assert.equal(res.status, 503, res.text);
    assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
  });

  it('a flipping gauge does not fire the alert (the promtool check can fail)', () => {
    const flipping = Array.from({ length: 20 }, (_, i) => i % 2);
    assert.equal(
      promtoolAlertFiresOn('PostgresReplicaDown', 'postgres_replica', flipping).fires,
      false,
    );
    assert.equal(
      promtoolAlertFiresOn('PostgresReplicaDown', 'postgres_replica', Array(20).fill(0)).fires,
      true,
    );
  });
});

describe('readiness says whether this pod can serve its traffic', function () {
  this.timeout(120_000);
  let services: PrivateServices;
  let service: RunningService | undefined;

  before(async () => {
    services = await startPrivateServices();
  });
  after(async () => {
    await service?.close();
    await services?.down();
  });

  it('primary down, replica up: ready but degraded, and queries are served; both down: not ready', async () => {
    service = await startTestService(settings(services));
    const api = apiClient(service.url);
    const collection = uniqueName('primary-outage');
    assert.equal((await api.post('/v1/collections', { id: collection })).status, 201);
    const ingest = await api.post(`/v1/collections/${collection}/documents`, {
      content: '# Failover\n\nDuring a primary outage the replica keeps answering reads.',
    });
    assert.equal(ingest.status, 202, ingest.text);
    const documentPath = `/v1/collections/${collection}/documents/${ingest.body.document.id}`;
    // Indexed as the replica sees it, so the outage below cannot hide a row still in flight.
    await eventually(async () => (await api.get(documentPath)).body.status === 'indexed', {
      what: 'the document indexed on the replica',
    });
    assert.equal((await api.get('/readyz')).body.status, 'ready');

    await services.stopPostgres('primary');
    await eventually(
      async () => (await api.get('/readyz')).body.dependencies.postgres_primary.state === 'down',
      { what: 'the primary to count as down' },
    );
    const ready = await api.get('/readyz');
    assert.equal(ready.status, 200, 'reads are served from the replica: stay in rotation');
    assert.equal(ready.body.status, 'degraded');
    const answer = await api.post('/v1/query', { collection, query: 'who answers reads?' });
    assert.equal(answer.status, 200, answer.text);
    assert.ok(answer.body.citations.length > 0);
    assert.equal((await api.get(`/v1/collections/${collection}`)).status, 200);
    const write = await api.post('/v1/collections', { id: uniqueName('during-outage') });
    assert.equal(write.status, 503, write.text);

    await services.stopPostgres('replica');
    await eventually(async () => (await api.get('/readyz')).status === 503, {
      what: 'not ready once no database can serve',
    });
    const down = await api.get('/readyz');
    assert.equal(down.body.status, 'down');
    assert.match(down.body.reasons.join(' '), /no database/);
  });
});
