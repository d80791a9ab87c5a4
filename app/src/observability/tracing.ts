import { trace, type Tracer } from '@opentelemetry/api';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import {
  AlwaysOffSampler,
  BatchSpanProcessor,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';

let provider: NodeTracerProvider | undefined;

/**
 * Registers the global tracer provider once per process. Every request gets a span context (its
 * trace id correlates log lines and continues an incoming `traceparent`). Spans are recorded only
 * when an OTLP endpoint is configured: without one nothing would ever read them, so the sampler
 * records none and each span is a bare context (ids, no attributes, timings or end processing),
 * which the hot paths check with `isRecording()` to skip their span work.
 */
export function initTracing(options: { serviceName: string; otlpEndpoint?: string }): Tracer {
  if (!provider) {
    const spanProcessors: SpanProcessor[] = [];
    if (options.otlpEndpoint) {
      const url = new URL('v1/traces', options.otlpEndpoint.replace(/\/?$/, '/')).toString();
      spanProcessors.push(new BatchSpanProcessor(new OTLPTraceExporter({ url })));
    }
    provider = new NodeTracerProvider({
      resource: resourceFromAttributes({ 'service.name': options.serviceName }),
      spanProcessors,
      // With an exporter, the SDK's sampler (OTEL_TRACES_SAMPLER, parent-based always-on by default).
      ...(options.otlpEndpoint ? {} : { sampler: new AlwaysOffSampler() }),
    });
    provider.register();
  }
  return trace.getTracer('rag-platform');
}

export async function shutdownTracing(): Promise<void> {
  await provider?.forceFlush();
}
