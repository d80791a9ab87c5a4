import type { Severity } from '../alerting/severity';
import { minutes } from '../promql/duration';

// Multi-window, multi-burn-rate alerting from the Google SRE workbook ("Alerting on SLOs"),
// tuned for a 30-day period: a page when 2% of the budget burns in 1h or 5% in 6h, a ticket
// when 10% burns in 1d or 10% in 3d. The short window of each pair (1/12 of the long one) makes
// the alert resolve soon after the burn stops instead of an hour later.

export interface WindowPair {
  readonly long: string;
  readonly short: string;
  /** Burn rate: multiple of the error budget ratio that the error ratio must exceed. */
  readonly factor: number;
}

export interface BurnRateAlertPolicy {
  readonly severity: Severity;
  /** How the alert is handled: a page wakes someone, a ticket waits for working hours. */
  readonly handling: 'page' | 'ticket';
  readonly pairs: readonly WindowPair[];
  readonly for: string;
}

export const burnRatePolicies: readonly BurnRateAlertPolicy[] = [
  {
    severity: 'critical',
    handling: 'page',
    for: '2m',
    pairs: [
      { long: '1h', short: '5m', factor: 14.4 },
      { long: '6h', short: '30m', factor: 6 },
    ],
  },
  {
    severity: 'warning',
    handling: 'ticket',
    for: '15m',
    pairs: [
      { long: '1d', short: '2h', factor: 3 },
      { long: '3d', short: '6h', factor: 1 },
    ],
  },
];

/** Every window an SLI ratio is recorded for, shortest first. */
export function sliWindows(): string[] {
  const all = burnRatePolicies.flatMap((p) => p.pairs.flatMap((w) => [w.short, w.long]));
  return [...new Set(all)].sort((a, b) => minutes(a) - minutes(b));
}
