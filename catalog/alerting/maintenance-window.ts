/**
 * The weekly window in which the platform schedules disruptive provider maintenance. Alertmanager
 * mutes warnings during it (alertmanager-config.ts), and infra/ places the RDS and ElastiCache
 * maintenance windows inside it, so the noise they cause is expected and muted.
 */
export const weeklyMaintenance = {
  weekday: 'sunday',
  /** UTC, HH:MM. */
  start: '02:00',
  /** UTC, HH:MM, same day. */
  end: '04:00',
} as const;
