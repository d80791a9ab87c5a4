import { trace, type Tracer } from '@opentelemetry/api';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';

let provider: NodeTracerProvider | undefined;

/**
 * Registers the global tracer provider once per process. Spans are always created (their trace ids
 * correlate log lines and honour incoming `traceparent` headers); they leave the process only when
 * an OTLP endpoint is configured.
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
    });
    provider.register();
  }
  return trace.getTracer('rag-platform');
}

export async function shutdownTracing(): Promise<void> {
  await provider?.forceFlush();
}
