/**
 * The weekly window in which the platform schedules disruptive provider maintenance. Alertmanager
 * mutes warnings during it (alerts/src/alertmanager), and infra/ places the RDS and ElastiCache
 * maintenance windows inside it, so the noise they cause is expected and muted.
 */
export const weeklyMaintenance = {
  weekday: 'sunday',
  /** UTC, HH:MM. */
  start: '02:00',
  /** UTC, HH:MM, same day. */
  end: '04:00',
} as const;

/** Maintenance windows, by name: warnings and info are muted during them, pages are not. */
export interface MaintenanceWindow {
  readonly name: string;
  readonly why: string;
  readonly timeIntervals: readonly Record<string, unknown>[];
}

export const maintenanceWindows: readonly MaintenanceWindow[] = [
  {
    name: 'weekly-maintenance',
    why: `Node pool upgrades and RDS/ElastiCache maintenance windows (${weeklyMaintenance.weekday} ${weeklyMaintenance.start}-${weeklyMaintenance.end} UTC).`,
    timeIntervals: [
      {
        weekdays: [weeklyMaintenance.weekday],
        times: [{ start_time: weeklyMaintenance.start, end_time: weeklyMaintenance.end }],
        location: 'UTC',
      },
    ],
  },
  {
    name: 'year-end-freeze',
    why: 'Change freeze: nobody deploys, so non-paging noise waits until January.',
    timeIntervals: [{ months: ['december'], days_of_month: ['24:31'], location: 'UTC' }],
  },
];
