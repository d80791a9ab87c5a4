import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { apiClient } from '../support/http-client';
import { freePort, spawnService, waitReady } from '../support/service-process';
import { eventually, requireEnv, uniqueName } from '../support/test-service';

interface ExportedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
}

describe('OpenTelemetry tracing over OTLP', function () {
  this.timeout(60_000);

  it('exports a server span per request with a child span per pipeline stage, continuing traceparent', async () => {
    // A minimal OTLP/HTTP collector: the exporter posts JSON ExportTraceServiceRequest bodies.
    const spans: ExportedSpan[] = [];
    const collector = createServer(async (req, res) => {
      let body = '';
      for await (const chunk of req) body += chunk;
      if (req.url === '/v1/traces') {
        const parsed = JSON.parse(body);
        for (const rs of parsed.resourceSpans ?? [])
          for (const ss of rs.scopeSpans ?? []) spans.push(...ss.spans);
      }
      res.setHeader('content-type', 'application/json');
      res.end('{}');
    });
    await new Promise<void>((r) => collector.listen(0, '127.0.0.1', r));
    const collectorUrl = `http://127.0.0.1:${(collector.address() as { port: number }).port}`;
    try {
      const port = await freePort();
      const service = spawnService({
        DATABASE_URL: requireEnv('DATABASE_URL'),
        DATABASE_REPLICA_URLS: requireEnv('DATABASE_REPLICA_URLS'),
        REDIS_URL: requireEnv('REDIS_URL'),
        HOST: '127.0.0.1',
        PORT: String(port),
        LOG_LEVEL: 'warn',
        SEED_DEMO_CORPUS: 'false',
        OTEL_EXPORTER_OTLP_ENDPOINT: collectorUrl,
      });
      try {
        await waitReady(service);
        const api = apiClient(service.url);
        const collection = uniqueName('traced');
        assert.equal((await api.post('/v1/collections', { id: collection })).status, 201);
        const doc = await api.post(`/v1/collections/${collection}/documents`, {
          content: '# Tracing\n\nEvery pipeline stage gets its own span.',
        });
        await eventually(
          async () =>
            (await api.get(`/v1/collections/${collection}/documents/${doc.body.document.id}`)).body
              .status === 'indexed',
        );
        const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
        const res = await api.request(
          'POST',
          '/v1/query',
          { collection, query: 'what gets its own span?' },
          { headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` } },
        );
        assert.equal(res.status, 200);
        service.child.kill('SIGTERM');
        assert.equal((await service.exited).code, 0);

        const trace = spans.filter((s) => s.traceId === traceId);
        const server = trace.find((s) => s.name === 'POST /v1/query');
        assert.ok(server, `server span missing; got ${trace.map((s) => s.name).join(', ')}`);
        assert.equal(server.parentSpanId, '00f067aa0ba902b7', 'continues the caller’s span');
        for (const stage of ['rag.db', 'rag.cache', 'rag.embed', 'rag.retrieve', 'rag.generate']) {
          const span = trace.find((s) => s.name === stage);
          assert.ok(span, `${stage} span missing`);
          assert.equal(span.parentSpanId, server.spanId, `${stage} is a child of the request span`);
        }
      } finally {
        if (service.child.exitCode === null) service.child.kill('SIGKILL');
      }
    } finally {
      collector.close();
    }
  });
});
