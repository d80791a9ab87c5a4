import assert from 'node:assert/strict';
import { apiClient } from '../support/http-client';
import { localJsonServer } from '../support/local-json-server';
import { freePort, realServicesEnv, spawnService, waitReady } from '../support/service-process';
import { eventually, uniqueName } from '../support/test-service';

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
    const collector = localJsonServer((req, body, res) => {
      if (req.url === '/v1/traces') {
        for (const rs of body.resourceSpans ?? [])
          for (const ss of rs.scopeSpans ?? []) spans.push(...ss.spans);
      }
      res.setHeader('content-type', 'application/json');
      res.end('{}');
    });
    const collectorUrl = (await collector.start()).origin;
    try {
      const port = await freePort();
      const service = spawnService(
        realServicesEnv(port, { OTEL_EXPORTER_OTLP_ENDPOINT: collectorUrl }),
      );
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
      await collector.stop();
    }
  });
});
