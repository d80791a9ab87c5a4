// Alertmanager receivers by role: routing sends each severity to one, and tests and runbooks name
// them. The generated Alertmanager config defines them (alerts/src/alertmanager).

export const receivers = {
  page: 'critical-page',
  ticket: 'warning-ticket',
  none: 'null',
  heartbeat: 'watchdog-heartbeat',
} as const;
