import { readdirSync, readFileSync } from 'node:fs';
import { Client } from 'pg';

// CPU time the backends serving one database have used, read from /proc (Linux), so a bench can
// report what a request costs the database and not only how long it waited: on a machine shared
// with other work, latency measures the queue as much as the work. A backend is a child of the
// postmaster (the parent of the bench's own backend) whose title names the database; WAL replay,
// checkpoints and other databases' sessions are left out.

/** Clock ticks per second of /proc/<pid>/stat's times: USER_HZ, 100 on every Linux build in use. */
const ticksPerSecond = 100;

function stat(pid: number): { ppid: number; cpuTicks: number } | undefined {
  try {
    const raw = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may hold spaces: fields count from after it.
    const fields = raw.slice(raw.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(fields[1]), cpuTicks: Number(fields[11]) + Number(fields[12]) };
  } catch {
    return undefined; // exited meanwhile
  }
}

export interface DatabaseBackends {
  readonly postmaster: number;
  readonly database: string;
}

/** Where the backends of the database at `url` are, or undefined where /proc cannot tell. */
export async function backendsOf(url: string): Promise<DatabaseBackends | undefined> {
  const client = new Client(url);
  await client.connect();
  try {
    const { rows } = await client.query<{ pid: number; database: string }>(
      'SELECT pg_backend_pid() AS pid, current_database() AS database',
    );
    const postmaster = stat(rows[0].pid)?.ppid;
    return postmaster ? { postmaster, database: rows[0].database } : undefined;
  } finally {
    await client.end();
  }
}

function title(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
}

/** CPU ticks used so far by each live backend of the database, by pid. */
export function backendCpu({ postmaster, database }: DatabaseBackends): Map<number, number> {
  const ticks = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const s = stat(Number(entry));
    // "postgres: <user> <database> <client> <state>"
    if (s && s.ppid === postmaster && title(Number(entry)).split(' ')[2] === database) {
      ticks.set(Number(entry), s.cpuTicks);
    }
  }
  return ticks;
}

/**
 * CPU milliseconds the database's backends used between two readings: backends alive at the
 * second (those started since count whole). A backend that exited in between is missed, so this
 * is a lower bound; the service's pools keep theirs open for the length of a bench run.
 */
export function cpuMsBetween(before: Map<number, number>, after: Map<number, number>): number {
  let ticks = 0;
  for (const [pid, used] of after) ticks += used - (before.get(pid) ?? 0);
  return (ticks / ticksPerSecond) * 1000;
}
