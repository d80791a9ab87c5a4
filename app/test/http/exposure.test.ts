import assert from 'node:assert/strict';
import type { RunningService } from '../../src/service';
import { Client } from 'pg';
import {
  createTestDatabase,
  serviceDatabaseEnv,
  type TestDatabase,
} from '../stores/postgres/test-database';
import { apiClient } from '../support/http-client';
import { eventually, startTestService, uniqueName } from '../support/test-service';

// What each port and path gives a caller: security headers, CORS, what stays internal, and what a
// response must not tell one caller about another's questions or about the service's internals.

describe('HTTP exposure', function () {
  this.timeout(60_000);

  describe('with an internal port and production-like settings', () => {
    let service: RunningService;
    before(async () => {
      service = await startTestService({
        INTERNAL_PORT: '0',
        CORS_ALLOWED_ORIGINS: 'https://app.example.com',
        EXPOSE_QUERY_DIAGNOSTICS: 'false',
      });
    });
    after(async () => service?.close());

    it('keeps /metrics and the readiness detail off the main port', async () => {
      const api = apiClient(service.url);
      assert.equal((await api.get('/metrics')).status, 404);
      const ready = await eventually(async () => {
        const r = await api.get('/readyz');
        return r.status === 200 && r;
      });
      assert.deepEqual(ready.body, { status: ready.body.status });
    });

    it('serves /metrics and the readiness detail on the internal port only', async () => {
      assert.ok(service.internalUrl);
      assert.notEqual(service.internalUrl, service.url);
      const internal = apiClient(service.internalUrl);
      const metrics = await internal.get('/metrics');
      assert.equal(metrics.status, 200);
      assert.match(metrics.text, /^# HELP /m);
      const ready = await internal.get('/readyz');
      assert.ok(ready.body.dependencies ?? ready.body.checks ?? Object.keys(ready.body).length > 1);
      assert.equal((await internal.get('/healthz')).status, 200);
      // The API is not on the internal port.
      assert.equal((await internal.get('/v1/collections')).status, 404);
    });

    it('sends a JSON-API security policy and HSTS', async () => {
      const res = await apiClient(service.url).get('/healthz');
      assert.match(res.headers.get('strict-transport-security') ?? '', /max-age=31536000/);
      assert.equal(
        res.headers.get('content-security-policy')?.includes("default-src 'none'"),
        true,
      );
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(res.headers.get('x-frame-options'), 'DENY');
      assert.equal(res.headers.get('x-powered-by'), null);
    });

    it('lets Swagger UI load under its own policy', async () => {
      const api = apiClient(service.url);
      const page = await api.get('/docs/');
      assert.equal(page.status, 200);
      const csp = page.headers.get('content-security-policy') ?? '';
      assert.match(csp, /script-src 'self'/);
      assert.match(csp, /style-src 'self' 'unsafe-inline'/);
      // Plain-http local runs would otherwise have their assets rewritten to https.
      assert.doesNotMatch(csp, /upgrade-insecure-requests/);
      for (const asset of [...page.text.matchAll(/(?:src|href)="\.\/([^"]+)"/g)].map((m) => m[1])) {
        const res = await api.get(`/docs/${asset}`);
        assert.equal(res.status, 200, asset);
      }
    });

    it('answers CORS for allowed origins only', async () => {
      const ask = (origin: string) =>
        fetch(new URL('/v1/collections', service.url), {
          method: 'OPTIONS',
          headers: { Origin: origin, 'Access-Control-Request-Method': 'POST' },
        });
      const allowed = await ask('https://app.example.com');
      assert.equal(allowed.headers.get('access-control-allow-origin'), 'https://app.example.com');
      assert.match(allowed.headers.get('access-control-allow-methods') ?? '', /POST/);
      const other = await ask('https://evil.example.net');
      assert.equal(other.headers.get('access-control-allow-origin'), null);
    });

    it('does not say whether an answer came from the cache', async () => {
      const api = apiClient(service.url);
      const collection = uniqueName('exposure');
      assert.equal((await api.post('/v1/collections', { id: collection })).status, 201);
      const doc = await api.post(`/v1/collections/${collection}/documents`, {
        content: 'The headers timeout cuts off clients that send their headers slowly.',
      });
      assert.equal(doc.status, 202, doc.text);
      await eventually(
        async () =>
          (await api.get(`/v1/collections/${collection}/documents/${doc.body.document.id}`)).body
            .status === 'indexed',
      );
      for (let i = 0; i < 2; i++) {
        const res = await api.post('/v1/query', { collection, query: 'headers?' });
        assert.equal(res.status, 200, res.text);
        assert.equal('cached' in res.body, false);
        assert.equal(res.headers.get('server-timing'), null);
      }
    });
  });

  describe('with the defaults of a local run', () => {
    let service: RunningService;
    before(async () => {
      service = await startTestService();
    });
    after(async () => service?.close());

    it('keeps metrics and readiness detail on the one port and exposes diagnostics', async () => {
      const api = apiClient(service.url);
      assert.equal(service.internalUrl, undefined);
      assert.equal((await api.get('/metrics')).status, 200);
      assert.ok(Object.keys((await api.get('/readyz')).body).length > 1);
      const res = await api.get('/healthz');
      assert.notEqual(res.headers.get('server-timing'), null);
    });
  });

  describe('when the database fails under a request', () => {
    let db: TestDatabase;
    let service: RunningService | undefined;
    before(async () => {
      db = await createTestDatabase('exposure');
      service = await startTestService({
        ...serviceDatabaseEnv(db),
      });
    });
    after(async () => {
      await service?.close();
      await db?.drop();
    });

    it('answers with a problem that names no internals', async () => {
      const api = apiClient(service!.url);
      const collection = uniqueName('leak');
      assert.equal((await api.post('/v1/collections', { id: collection })).status, 201);
      // Every table the API reads is gone: the driver's errors name relations and SQL.
      const admin = new Client(db.primaryUrl);
      await admin.connect();
      try {
        await admin.query('DROP TABLE chunks, documents, collections CASCADE');
      } finally {
        await admin.end();
      }
      const hostPorts = [db.primaryUrl, db.replicaUrl].flatMap((u) => {
        const url = new URL(u);
        return [url.hostname, url.port];
      });
      const requests = [
        () => api.get('/v1/collections'),
        () => api.get(`/v1/collections/${collection}/documents`),
        () => api.post(`/v1/collections/${collection}/documents`, { content: 'x' }),
        () => api.post('/v1/query', { collection, query: 'anything?' }),
        () => api.post('/v1/collections', { id: uniqueName('leak') }),
      ];
      // Reads go to the replica, which replays the DROP a moment later.
      const responses = [];
      for (const request of requests) {
        responses.push(
          await eventually(
            async () => {
              const res = await request();
              return res.status >= 500 && res;
            },
            { what: 'the request to fail on the missing tables' },
          ),
        );
      }
      for (const res of responses) {
        assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/);
        for (const leak of [
          /relation/i,
          /does not exist/i,
          /select |insert |from /i,
          /\bat .*\.(ts|js):\d+/,
          /postgres:\/\//i,
          /ECONN/,
          /node_modules/,
          ...hostPorts.map((s) => new RegExp(s.replace(/\./g, '\\.'))),
        ]) {
          assert.doesNotMatch(res.text, leak, `response leaks ${leak}: ${res.text}`);
        }
      }
    });
  });
});
