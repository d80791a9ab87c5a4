import type { DependencyName } from '../domain/errors';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import {
  decideReadiness,
  type DependencyReport,
  type DependencyState,
  type Readiness,
} from './readiness';

export type { DependencyReport, DependencyState };

// The one owner of dependency state. Every input about a dependency ends here — the periodic
// probes below and the failures adapters report while serving traffic — and this class alone turns
// them into a state per dependency, the `rag_dependency_up` gauge and the /readyz report, so the
// three can never disagree. Before it, three writers with different rules set the gauge in turn and
// it flipped every second or two, which restarted every alert's `for:` clock.

/** What one probe saw. */
export interface ProbeResult {
  readonly state: DependencyState;
  /** Set when this pod must leave rotation whatever the rest says (see readiness.ts). */
  readonly podCannotServe?: string;
  readonly detail?: Record<string, unknown>;
}

export interface DependencyProbe {
  readonly name: DependencyName;
  /** A rejection (or no answer within the probe timeout) means down. */
  probe(): Promise<ProbeResult>;
}

export interface ReadinessReport {
  readonly status: Readiness;
  readonly checkedAt: string | null;
  /** Why the pod is out of rotation (status `down`), in words an operator can act on. */
  readonly reasons?: readonly string[];
  readonly dependencies: Partial<Record<DependencyName, DependencyReport>>;
}

export interface DependencyStatesOptions {
  /** Probe cadence. */
  readonly intervalMs: number;
  /** A probe without an answer within this is a failed probe. */
  readonly timeoutMs: number;
  /**
   * How long a failure an adapter reported keeps its dependency down although probes pass. A
   * probe can pass while real calls fail (`GET /models` answers, `/embeddings` does not): without
   * the hold the state would alternate between the two inputs on every request and every probe.
   * Default: three probe intervals.
   */
  readonly failureHoldMs?: number;
}

interface Entry {
  probed?: ProbeResult & { error?: string };
  lastFailureAt?: number;
  lastFailure?: string;
  state?: DependencyState;
}

export class DependencyStates {
  private readonly probes = new Map<DependencyName, DependencyProbe>();
  private readonly entries = new Map<DependencyName, Entry>();
  private report: ReadinessReport = { status: 'down', checkedAt: null, dependencies: {} };
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private lastProbeAt: Date | null = null;
  private stopped = false;
  private readonly failureHoldMs: number;

  constructor(
    private readonly metrics: Metrics,
    private readonly logger: Logger,
    private readonly options: DependencyStatesOptions,
  ) {
    this.failureHoldMs = options.failureHoldMs ?? options.intervalMs * 3;
  }

  /** Registers the probes, runs them once (so the first /readyz is truthful) and keeps probing. */
  async start(probes: readonly DependencyProbe[]): Promise<void> {
    for (const p of probes) {
      this.probes.set(p.name, p);
      if (!this.entries.has(p.name)) this.entries.set(p.name, {});
    }
    await this.refresh();
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  current(): ReadinessReport {
    return this.report;
  }

  /**
   * An adapter saw `dependency` fail while serving traffic (unreachable, timing out, answering 5xx —
   * never a caller's bad input). The dependency is down from now until probes pass and no further
   * failure arrived for `failureHoldMs`.
   */
  reportFailure(dependency: DependencyName, error: unknown): void {
    const entry = this.entries.get(dependency);
    // A dependency this deployment does not use (no probe registered) has no state to change.
    if (!entry && this.probes.size > 0) return;
    const e = entry ?? {};
    this.entries.set(dependency, e);
    e.lastFailureAt = Date.now();
    e.lastFailure = error instanceof Error ? error.message : String(error);
    this.publish();
  }

  /** Probes every dependency once (concurrent callers share one run) and publishes the result. */
  refresh(): Promise<void> {
    this.running ??= this.runProbes().finally(() => (this.running = undefined));
    return this.running;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.refresh().finally(() => this.schedule());
    }, this.options.intervalMs);
    this.timer.unref();
  }

  private async runProbes(): Promise<void> {
    await Promise.all(
      [...this.probes.values()].map(async (p) => {
        let result: Entry['probed'];
        try {
          result = await withTimeout(p.probe(), this.options.timeoutMs);
        } catch (err) {
          result = { state: 'down', error: (err as Error).message };
        }
        this.entries.get(p.name)!.probed = result;
      }),
    );
    this.lastProbeAt = new Date();
    this.publish();
  }

  private publish(): void {
    const now = Date.now();
    const dependencies: ReadinessReport['dependencies'] = {};
    const podCannotServe: string[] = [];
    for (const [name, entry] of this.entries) {
      if (!entry.probed) continue;
      const recentFailure =
        entry.lastFailureAt !== undefined && now - entry.lastFailureAt < this.failureHoldMs;
      const state: DependencyState = recentFailure ? 'down' : entry.probed.state;
      const detail: Record<string, unknown> = { ...entry.probed.detail };
      if (entry.probed.error) detail.error = entry.probed.error;
      if (recentFailure) detail.lastFailure = entry.lastFailure;
      if (entry.probed.podCannotServe) podCannotServe.push(entry.probed.podCannotServe);
      dependencies[name] = { state, ...(Object.keys(detail).length ? { detail } : {}) };
      if (entry.state !== undefined && entry.state !== state) {
        this.logger.log(state === 'up' ? 'info' : 'warn', `dependency ${name} is ${state}`, {
          detail,
        });
      }
      entry.state = state;
      // 1 only when fully up: a degraded dependency (one replica of two down, a replica too far
      // behind to serve reads) is something on-call must fix, and its alert needs a 0 to fire.
      this.metrics.dependencyUp.set({ dependency: name }, state === 'up' ? 1 : 0);
    }
    const { status, reasons } = decideReadiness(dependencies, podCannotServe);
    this.report = {
      status,
      checkedAt: this.lastProbeAt?.toISOString() ?? null,
      ...(reasons.length ? { reasons } : {}),
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
