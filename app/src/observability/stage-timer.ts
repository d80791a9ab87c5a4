import { SpanStatusCode, trace, type Tracer } from '@opentelemetry/api';
import type { Stage } from '../../../catalog/metrics/metric-catalog';
import type { Metrics } from './metrics';
import { currentRequestContext } from './request-context';

/**
 * Times one pipeline stage three ways at once: the `rag_stage_duration_seconds` histogram, an
 * OpenTelemetry span, and the request's Server-Timing entry.
 */
export class StageTimer {
  constructor(
    private readonly metrics: Metrics,
    private readonly tracer: Tracer,
  ) {}

  async time<T>(stage: Stage, fn: () => Promise<T>): Promise<T> {
    // Inside a request no sampler records (tracing.ts; parent-based sampling follows the request
    // span), a stage span would be another bare context: only the histogram and Server-Timing.
    if (trace.getActiveSpan()?.isRecording() === false) return this.measure(stage, fn);
    return this.tracer.startActiveSpan(`rag.${stage}`, async (span) => {
      try {
        return await this.measure(stage, fn);
      } catch (err) {
        span.recordException(err as Error);
        span.setStatus({ code: SpanStatusCode.ERROR });
        throw err;
      } finally {
        span.end();
      }
    });
  }

  /** The same for a stage that does not wait (an answer already in memory). */
  timeSync<T>(stage: Stage, fn: () => T): T {
    if (trace.getActiveSpan()?.isRecording() === false) return this.measureSync(stage, fn);
    return this.tracer.startActiveSpan(`rag.${stage}`, (span) => {
      try {
        return this.measureSync(stage, fn);
      } catch (err) {
        span.recordException(err as Error);
        span.setStatus({ code: SpanStatusCode.ERROR });
        throw err;
      } finally {
        span.end();
      }
    });
  }

  private async measure<T>(stage: Stage, fn: () => Promise<T>): Promise<T> {
    const started = process.hrtime.bigint();
    try {
      return await fn();
    } finally {
      this.record(stage, started);
    }
  }

  private measureSync<T>(stage: Stage, fn: () => T): T {
    const started = process.hrtime.bigint();
    try {
      return fn();
    } finally {
      this.record(stage, started);
    }
  }

  private record(stage: Stage, started: bigint): void {
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    this.metrics.stageDuration.observe({ stage }, ms / 1000);
    const timings = currentRequestContext()?.timings;
    timings?.set(stage, (timings.get(stage) ?? 0) + ms);
  }
}
