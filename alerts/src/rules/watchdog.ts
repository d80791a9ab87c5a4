import { dashboardUids } from '../../../catalog/dashboard-uids';
import type { AlertDefinition } from './rule-model';

// The heartbeat: an alert that always fires, routed to an external dead-man's switch that pages
// when it stops arriving, so a broken Prometheus, rule evaluation, Alertmanager or cluster is
// noticed (alerts/src/alertmanager says why the switch is outside the cluster).

export const watchdogGroup = 'rag-watchdog';

export function watchdogAlert(): AlertDefinition {
  return {
    alert: 'Watchdog',
    group: watchdogGroup,
    expr: 'vector(1)',
    for: '0m',
    severity: 'info',
    summary: 'Always firing: proves the alerting pipeline delivers.',
    description:
      "This alert always fires. The external dead-man's switch pages when it stops arriving, " +
      'meaning Prometheus, its rules, Alertmanager or the cluster are broken.',
    dashboardUid: dashboardUids.onCallHome,
    tests: {
      fires: {
        name: 'Watchdog: fires from the first evaluation and never resolves',
        inputSeries: [],
        checks: [0, 60, 600].map((atMinute) => ({
          atMinute,
          firing: [{ labels: {}, value: 1 }],
        })),
      },
      quiet: { noThreshold: 'The Watchdog has no threshold: it must always fire.' },
    },
  };
}
