import { weeklyMaintenance } from '../../catalog/alerting/maintenance-windows';

// AWS maintenance (patching, failovers) lands inside the weekly window Alertmanager mutes, split
// so the database and the cache are never disrupted at the same time: RDS takes the first half,
// ElastiCache the second. Backups and snapshots run daily before the window (AWS rejects a backup
// window that overlaps the maintenance window).

const minutes = (hhmm: string) => {
  const [h, m] = hhmm.split(':').map(Number);
  return h * 60 + m;
};
const clock = (total: number) =>
  `${String(Math.floor(total / 60)).padStart(2, '0')}:${String(total % 60).padStart(2, '0')}`;

const day = weeklyMaintenance.weekday.slice(0, 3);
const start = minutes(weeklyMaintenance.start);
const end = minutes(weeklyMaintenance.end);
// ElastiCache requires at least 60 minutes, RDS 30; halves on the half hour.
const middle = start + Math.floor((end - start) / 60) * 30;
if (end - middle < 60 || middle - start < 30 || start < 120)
  throw new Error(
    `weekly maintenance ${weeklyMaintenance.start}-${weeklyMaintenance.end} must last >= 90 minutes and start after 02:00 UTC (backups run in the two hours before)`,
  );

// The RDS half splits again: the primary first, then its replicas, so a replica's patch reboot
// never coincides with the primary's (reads fall back to the primary meanwhile).
const rdsMiddle = start + Math.floor((middle - start) / 60) * 30;
if (rdsMiddle - start < 30 || middle - rdsMiddle < 30)
  throw new Error('the RDS half of the weekly maintenance window must last >= 60 minutes');

/** `ddd:hh24:mi-ddd:hh24:mi`, UTC, as RDS and ElastiCache take it. */
export const rdsMaintenanceWindow = `${day}:${clock(start)}-${day}:${clock(rdsMiddle)}`;
export const rdsReplicaMaintenanceWindow = `${day}:${clock(rdsMiddle)}-${day}:${clock(middle)}`;
export const elastiCacheMaintenanceWindow = `${day}:${clock(middle)}-${day}:${clock(end)}`;
/** Daily, `hh24:mi-hh24:mi` UTC, ending before the maintenance window starts. */
export const rdsBackupWindow = `${clock(start - 120)}-${clock(start - 60)}`;
export const elastiCacheSnapshotWindow = `${clock(start - 60)}-${clock(start)}`;
