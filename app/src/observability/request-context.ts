import { AsyncLocalStorage } from 'node:async_hooks';
import type { Stage } from '../../../catalog/metrics/metric-catalog';

/** Per-request state that must reach log lines and the Server-Timing header without threading it through every call. */
export interface RequestContext {
  readonly requestId: string;
  traceId?: string;
  /** Accumulated milliseconds per pipeline stage (a stage may run more than once per request). */
  readonly timings: Map<Stage, number>;
}

const storage = new AsyncLocalStorage<RequestContext>();

export function runWithRequestContext<T>(context: RequestContext, fn: () => T): T {
  return storage.run(context, fn);
}

export function currentRequestContext(): RequestContext | undefined {
  return storage.getStore();
}
