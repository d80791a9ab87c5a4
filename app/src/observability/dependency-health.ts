import type { Dependency } from '../../../catalog/metrics/metric-catalog';
import type { Metrics } from './metrics';
import type { Logger } from './logger';

export type DependencyState = 'up' | 'down';

export interface DependencyCheck {
  readonly name: Dependency;
  /** A critical dependency being down makes the service not ready; others only degrade it. */
  readonly critical: boolean;
  /** Resolves when healthy; may return extra detail for /readyz (e.g. the replica read target). */
  check(): Promise<Record<string, unknown> | void>;
}

export interface ReadinessReport {
  status: 'ready' | 'degraded' | 'down';
  checkedAt: string | null;
  dependencies: Record<string, { state: DependencyState; critical: boolean; detail?: unknown }>;
}

/**
 * Probes every dependency in the background on a fixed interval and keeps the last result, so
 * /readyz and the `rag_dependency_up` gauge cost nothing per request and a slow dependency cannot
 * stall the probe endpoint.
 */
export class DependencyHealth {
  private report: ReadinessReport = { status: 'down', checkedAt: null, dependencies: {} };
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly checks: readonly DependencyCheck[],
    private readonly metrics: Metrics,
    private readonly logger: Logger,
    private readonly options: { intervalMs: number; timeoutMs: number },
  ) {}

  start(): Promise<void> {
    this.timer = setInterval(() => void this.refresh(), this.options.intervalMs);
    this.timer.unref();
    return this.refresh();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  current(): ReadinessReport {
    return this.report;
  }

  /** Runs every check once (coalescing concurrent callers) and publishes the result. */
  refresh(): Promise<void> {
    this.running ??= this.runChecks().finally(() => (this.running = undefined));
    return this.running;
  }

  private async runChecks(): Promise<void> {
    const results = await Promise.all(
      this.checks.map(async (c) => {
        try {
          const detail = await withTimeout(c.check(), this.options.timeoutMs);
          return { c, state: 'up' as const, detail: detail ?? undefined };
        } catch (err) {
          return { c, state: 'down' as const, detail: { error: (err as Error).message } };
        }
      }),
    );
    const dependencies: ReadinessReport['dependencies'] = {};
    for (const { c, state, detail } of results) {
      const previous = this.report.dependencies[c.name]?.state;
      if (previous && previous !== state) {
        this.logger.log(state === 'up' ? 'info' : 'warn', `dependency ${c.name} is ${state}`, {
          detail,
        });
      }
      this.metrics.dependencyUp.set({ dependency: c.name }, state === 'up' ? 1 : 0);
      dependencies[c.name] = { state, critical: c.critical, ...(detail ? { detail } : {}) };
    }
    const down = results.filter((r) => r.state === 'down');
    this.report = {
      status: down.some((r) => r.c.critical) ? 'down' : down.length ? 'degraded' : 'ready',
      checkedAt: new Date().toISOString(),
      dependencies,
    };
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
