import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  afterProvisioning,
  logStreamLabels,
  traceIdLogField,
  traceIdMatcherRegex,
  tracesToLogsQuery,
} from '../../../catalog/observability/trace-log-links';
import { serviceIdentity } from '../../../catalog/service-identity';
import { apiClient } from '../support/http-client';
import { localJsonServer } from '../support/local-json-server';
import { LocalLoki } from '../support/local-loki';
import { freePort, realServicesEnv, spawnService, waitReady } from '../support/service-process';
import { eventually, uniqueName } from '../support/test-service';

// The live path from a request's trace to its log lines, with a real Loki and the exact links the
// platform provisions in Grafana (catalog/observability/trace-log-links.ts): the service exports
// its spans over OTLP and writes JSON lines; the lines go to Loki with the labels and structured
// metadata the collector (Alloy) gives them; Tempo's trace-to-logs query, with the trace id of the
// exported span, finds the request's lines, and Loki's derived field leads from each line back to
// that trace. Tempo itself cannot run here (the Go module proxy refuses github.com/grafana/tempo):
// a stand-in OTLP/HTTP receiver takes the spans.

interface ExportedSpan {
  traceId: string;
  name: string;
}

describe('a request’s trace id finds its log lines in Loki', function () {
  this.timeout(120_000);
  const loki = new LocalLoki();
  before(async () => {
    await loki.start();
  });
  after(async () => {
    await loki.stop();
  });

  it('through the provisioned trace-to-logs query and back through the derived field', async () => {
    const spans: ExportedSpan[] = [];
    const collector = localJsonServer((req, body, res) => {
      if (req.url === '/v1/traces')
        for (const rs of body.resourceSpans ?? [])
          for (const ss of rs.scopeSpans ?? []) spans.push(...ss.spans);
      res.setHeader('content-type', 'application/json');
      res.end('{}');
    });
    const otlp = (await collector.start()).origin;
    const port = await freePort();
    // `http` is the level request lines are written at (production's `info` drops them).
    const service = spawnService(
      realServicesEnv(port, { OTEL_EXPORTER_OTLP_ENDPOINT: otlp, LOG_LEVEL: 'http' }),
    );
    try {
      await waitReady(service);
      const api = apiClient(service.url);
      const traced = randomBytes(16).toString('hex');
      const other = randomBytes(16).toString('hex');
      const traceparent = (id: string) => ({ traceparent: `00-${id}-00f067aa0ba902b7-01` });
      const collection = uniqueName('logs');
      const created = await api.request(
        'POST',
        '/v1/collections',
        { id: collection },
        {
          headers: traceparent(traced),
        },
      );
      assert.equal(created.status, 201);
      const missing = await api.request('GET', `/v1/collections/${collection}-missing`, undefined, {
        headers: traceparent(other),
      });
      assert.equal(missing.status, 404);

      // The trace as the trace store received it: the server span of the create.
      const span = await eventually(
        () =>
          spans.find(
            (s) => s.name === 'POST /v1/collections/' || s.name === 'POST /v1/collections',
          ),
        { timeoutMs: 20_000, what: 'the exported server span' },
      );
      assert.equal(span.traceId, traced);

      // Ship every line the service wrote, as Alloy does: the pod's labels, the trace id as
      // structured metadata (stage.json + stage.structured_metadata).
      const written = await eventually(
        () => {
          const lines = service
            .output()
            .split('\n')
            .filter((l) => l.startsWith('{'));
          const has = (id: string) =>
            lines.some((l) => (JSON.parse(l) as Record<string, unknown>)[traceIdLogField] === id);
          return has(traced) && has(other) && lines;
        },
        { what: 'both requests’ log lines' },
      );
      const labels: Record<(typeof logStreamLabels)[number], string> = {
        namespace: serviceIdentity.namespace,
        pod: `${serviceIdentity.deployment}-0`,
        container: serviceIdentity.service,
        app: serviceIdentity.service,
      };
      await loki.push(
        labels,
        written.map((line) => {
          const id = (JSON.parse(line) as Record<string, unknown>)[traceIdLogField];
          return { line, metadata: typeof id === 'string' ? { trace_id: id } : undefined };
        }),
      );

      const query = afterProvisioning(tracesToLogsQuery).replaceAll(
        '${__trace.traceId}',
        span.traceId,
      );
      const found = await eventually(
        async () => {
          const lines = await loki.query(query);
          return lines.length > 0 && lines;
        },
        { timeoutMs: 30_000, intervalMs: 250, what: 'the trace’s lines in Loki' },
      );
      const parsed = found.map((l) => JSON.parse(l) as Record<string, unknown>);
      assert.ok(
        parsed.some((l) => l.message === 'request' && l.status_code === '201'),
        `the request line among ${found.join('\n')}`,
      );
      assert.ok(
        parsed.every((l) => l[traceIdLogField] === traced),
        'only that trace’s lines',
      );
      // Each line leads back to the trace through Loki's derived field.
      const matcher = new RegExp(traceIdMatcherRegex);
      for (const line of found) assert.equal(matcher.exec(line)?.[1], span.traceId, line);
      // The other request's lines are there too, under their own trace id only.
      const otherQuery = afterProvisioning(tracesToLogsQuery).replaceAll(
        '${__trace.traceId}',
        other,
      );
      const otherLines = await loki.query(otherQuery);
      assert.ok(otherLines.length > 0);
      assert.ok(otherLines.every((l) => !l.includes(traced)));
    } finally {
      if (service.child.exitCode === null) service.child.kill('SIGKILL');
      await collector.stop();
    }
  });
});
