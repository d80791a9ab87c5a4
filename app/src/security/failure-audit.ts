import type { AuditEvent, AuditLog } from '../domain/audit';

// Failed authentications are audited, but a flood of them (a scanner, a misconfigured client, an
// attack) must not turn into one database write each: at most `maxPerMinute` events per process
// and minute are recorded; the rest are counted and the next recorded event says how many were
// left out (`detail.suppressed`), so the log stays honest about volume at a bounded cost.

export class FailureAudit {
  private windowStart = 0;
  private inWindow = 0;
  private suppressed = 0;
  private readonly now: () => number;

  constructor(
    private readonly audit: AuditLog,
    private readonly options: {
      readonly maxPerMinute: number;
      readonly onError: (err: unknown) => void;
      readonly now?: () => number;
    },
  ) {
    this.now = options.now ?? Date.now;
  }

  /** Records (or counts) one failure; never waits for, nor fails, the request. */
  failed(event: Omit<AuditEvent, 'type' | 'actor'>): void {
    const now = this.now();
    if (now - this.windowStart >= 60_000) {
      this.windowStart = now;
      this.inWindow = 0;
    }
    if (this.inWindow >= this.options.maxPerMinute) {
      this.suppressed++;
      return;
    }
    this.inWindow++;
    const suppressed = this.suppressed;
    this.suppressed = 0;
    const detail = suppressed > 0 ? { ...event.detail, suppressed } : event.detail;
    this.audit
      .record({ ...event, type: 'authentication.failed', actor: null, detail })
      .catch(this.options.onError);
  }
}
