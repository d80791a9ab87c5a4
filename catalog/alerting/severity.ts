// Alert severities, which decide routing: `critical` pages, `warning` files a ticket (and is muted
// in the maintenance window), `info` goes nowhere. The SLO burn-rate policy and every alert rule
// pick one, and the Alertmanager routes match on them.

export type Severity = 'critical' | 'warning' | 'info';
