import { randomUUID } from 'node:crypto';
import { context, propagation, SpanKind, trace, type Tracer } from '@opentelemetry/api';
import type { RequestHandler } from 'express';
import { runWithRequestContext } from '../../observability/request-context';

const acceptableRequestId = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Gives every request an id (the caller's `X-Request-Id` when it is sane) and a server span that
 * continues the caller's W3C `traceparent`, and runs the rest of the chain inside both so log lines,
 * stage timings and child spans find them.
 */
export function requestContext(tracer: Tracer): RequestHandler {
  // The headers the registered propagators read (traceparent, tracestate, baggage by default;
  // whatever OTEL_PROPAGATORS configures): a request carrying none of them has nothing to extract.
  let fields: readonly string[] | undefined;
  return (req, res, next) => {
    const incoming = req.headers['x-request-id'];
    const requestId =
      typeof incoming === 'string' && acceptableRequestId.test(incoming) ? incoming : randomUUID();
    res.setHeader('X-Request-Id', requestId);
    fields ??= propagation.fields().map((f) => f.toLowerCase());
    const active = context.active();
    const parent = fields.some((f) => req.headers[f] !== undefined)
      ? propagation.extract(active, req.headers)
      : active;
    const span = tracer.startSpan(
      `${req.method} request`,
      { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method } },
      parent,
    );
    // A span no sampler records has nothing to name, annotate or end (tracing.ts).
    if (span.isRecording())
      res.once('close', () => {
        const route = req.route ? `${req.baseUrl}${req.route.path}` : undefined;
        if (route) span.updateName(`${req.method} ${route}`);
        span.setAttribute('http.response.status_code', res.statusCode);
        span.end();
      });
    const ctx = { requestId, traceId: span.spanContext().traceId, timings: new Map() };
    runWithRequestContext(ctx, () => context.with(trace.setSpan(parent, span), next));
  };
}
