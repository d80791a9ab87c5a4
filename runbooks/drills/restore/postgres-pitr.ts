import { execSync } from 'node:child_process';
import {
  appendFileSync,
  chmodSync,
  chownSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { eventually } from '../../../test-support/eventually';
import { freePort, run, runOk } from '../stack/processes';

// Point-in-time recovery drill, the way RDS does it and runbooks/procedures/restore-postgres.md
// describes it: a base backup plus a continuous WAL archive (archive_command), marker rows
// written all along, then an "incident" (every marker deleted), and a restore into a new data
// directory to the moment just before it. It measures:
//   RPO: the target time minus the newest marker the restored server holds (data lost before it);
//   RTO: from the start of the restore (copying the base backup) to the restored server answering
//        as a promoted primary.
// The drill runs its own Postgres (the local stack's binaries, archive_mode needs a restart the
// shared test servers must not get), on loopback and a free port, and removes it afterwards.

export interface PitrOptions {
  /** How long markers are written before the incident. */
  readonly markerSeconds: number;
  /** Pause between markers. */
  readonly markerIntervalMs: number;
  /** archive_timeout: the longest a written change waits before its WAL segment is archived. */
  readonly archiveTimeoutSeconds: number;
  readonly log?: (line: string) => void;
}

export interface PitrResult {
  readonly markersWritten: number;
  readonly markersBeforeTarget: number;
  readonly markersRestored: number;
  /** Markers committed at or before the target that the restored server lacks (must be 0). */
  readonly markersLost: number;
  /** Markers after the target (the incident and what followed) that were restored (must be 0). */
  readonly markersAfterTargetRestored: number;
  readonly target: string;
  readonly rpoMs: number;
  readonly rtoMs: number;
  readonly walSegmentsArchived: number;
}

function pgBin(): string {
  return execSync('ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1').toString().trim();
}

const asRoot = process.getuid?.() === 0;
async function asPostgres(tool: string, args: string[]): Promise<string> {
  return asRoot ? runOk('runuser', ['-u', 'postgres', '--', tool, ...args]) : runOk(tool, args);
}
function own(dir: string): void {
  if (asRoot) {
    const uid = Number(execSync('id -u postgres').toString());
    const gid = Number(execSync('id -g postgres').toString());
    chownSync(dir, uid, gid);
  }
}

async function connect(port: number, database = 'postgres'): Promise<Client> {
  const client = new Client({ host: '127.0.0.1', port, user: 'postgres', database });
  // A server stopped under an idle client is expected here (the incident): not a crash.
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

export async function postgresPitrDrill(options: PitrOptions): Promise<PitrResult> {
  const log = options.log ?? (() => undefined);
  const bin = pgBin();
  const root = mkdtempSync(path.join(tmpdir(), 'rag-pitr-'));
  const dirs = {
    primary: path.join(root, 'primary'),
    archive: path.join(root, 'wal-archive'),
    base: path.join(root, 'base-backup'),
    restored: path.join(root, 'restored'),
    sockets: path.join(root, 'sockets'),
  };
  for (const d of Object.values(dirs)) {
    mkdirSync(d, { mode: 0o700 });
    own(d);
  }
  own(root);
  chmodSync(root, 0o755);
  const stops: (() => Promise<unknown>)[] = [];
  try {
    const port = await freePort();
    // 1 MB segments: archive_timeout switches segments often, and the archive stays small.
    await asPostgres(`${bin}/initdb`, [
      '-D',
      dirs.primary,
      '-U',
      'postgres',
      '--auth=trust',
      '--no-sync',
      '--wal-segsize=1',
    ]);
    appendFileSync(
      path.join(dirs.primary, 'postgresql.conf'),
      [
        `listen_addresses = '127.0.0.1'`,
        `port = ${port}`,
        `unix_socket_directories = '${dirs.sockets}'`,
        `wal_level = replica`,
        `archive_mode = on`,
        `archive_command = 'test ! -f ${dirs.archive}/%f && cp %p ${dirs.archive}/%f'`,
        `archive_timeout = ${options.archiveTimeoutSeconds}`,
        '',
      ].join('\n'),
    );
    appendFileSync(
      path.join(dirs.primary, 'pg_hba.conf'),
      'host replication postgres 127.0.0.1/32 trust\n',
    );
    await asPostgres(`${bin}/pg_ctl`, [
      '-D',
      dirs.primary,
      '-l',
      path.join(root, 'primary.log'),
      '-w',
      'start',
    ]);
    stops.push(() =>
      run('runuser', [
        '-u',
        'postgres',
        '--',
        `${bin}/pg_ctl`,
        '-D',
        dirs.primary,
        '-m',
        'immediate',
        'stop',
      ]),
    );
    const admin = await connect(port);
    await admin.query('CREATE DATABASE rag');
    await admin.end();
    const db = await connect(port, 'rag');
    stops.push(() => db.end().catch(() => undefined));
    await db.query(
      'CREATE TABLE drill_markers (id bigserial PRIMARY KEY, written_at timestamptz NOT NULL DEFAULT clock_timestamp())',
    );

    await asPostgres(`${bin}/pg_basebackup`, [
      '-h',
      '127.0.0.1',
      '-p',
      String(port),
      '-U',
      'postgres',
      '-D',
      dirs.base,
      '-X',
      'stream',
      '-c',
      'fast',
    ]);
    log(
      `base backup taken; writing markers every ${options.markerIntervalMs} ms for ${options.markerSeconds} s`,
    );

    // Markers, one committed row at a time, each remembered with the server's commit-side time.
    const committed: { id: number; writtenAt: number }[] = [];
    const writeMarker = async () => {
      const r = await db.query<{ id: string; t: Date }>(
        'INSERT INTO drill_markers DEFAULT VALUES RETURNING id, written_at AS t',
      );
      committed.push({ id: Number(r.rows[0].id), writtenAt: r.rows[0].t.getTime() });
    };
    const until = Date.now() + options.markerSeconds * 1000;
    const pause = () => new Promise((r) => setTimeout(r, options.markerIntervalMs));
    while (Date.now() < until) {
      await writeMarker();
      await pause();
    }
    // The incident: the target is the server's clock just before it.
    const target = (await db.query<{ t: string }>('SELECT clock_timestamp()::text AS t')).rows[0].t;
    const targetMs = (
      await db.query<{ t: Date }>('SELECT $1::timestamptz AS t', [target])
    ).rows[0].t.getTime();
    await db.query('DELETE FROM drill_markers');
    // Service continues after the incident: markers keep coming until its WAL is archived.
    const lsn = (await db.query<{ f: string }>('SELECT pg_walfile_name(pg_current_wal_lsn()) AS f'))
      .rows[0].f;
    await eventually(
      async () => {
        await writeMarker();
        const r = await db.query<{ w: string | null }>(
          'SELECT last_archived_wal AS w FROM pg_stat_archiver',
        );
        return r.rows[0].w !== null && r.rows[0].w >= lsn;
      },
      {
        timeoutMs: 60_000 + options.archiveTimeoutSeconds * 3000,
        intervalMs: options.markerIntervalMs,
        what: 'the incident archived',
      },
    );
    const segments = Number(
      (await db.query<{ n: string }>('SELECT archived_count AS n FROM pg_stat_archiver')).rows[0].n,
    );
    log(
      `incident at ${target}; ${committed.length} markers written, ${segments} WAL segments archived`,
    );

    // The primary is gone: restore from the base backup and the archive only.
    await db.end();
    await run('runuser', [
      '-u',
      'postgres',
      '--',
      `${bin}/pg_ctl`,
      '-D',
      dirs.primary,
      '-m',
      'immediate',
      'stop',
    ]);
    const restoreStarted = Date.now();
    await runOk('cp', ['-a', `${dirs.base}/.`, dirs.restored]);
    const restoredPort = await freePort();
    appendFileSync(
      path.join(dirs.restored, 'postgresql.conf'),
      [
        `port = ${restoredPort}`,
        `archive_mode = off`,
        `restore_command = 'cp ${dirs.archive}/%f %p'`,
        `recovery_target_time = '${target}'`,
        `recovery_target_action = 'promote'`,
        '',
      ].join('\n'),
    );
    writeFileSync(path.join(dirs.restored, 'recovery.signal'), '');
    own(path.join(dirs.restored, 'recovery.signal'));
    await asPostgres(`${bin}/pg_ctl`, [
      '-D',
      dirs.restored,
      '-l',
      path.join(root, 'restored.log'),
      '-w',
      '-t',
      '300',
      'start',
    ]);
    stops.push(() =>
      run('runuser', [
        '-u',
        'postgres',
        '--',
        `${bin}/pg_ctl`,
        '-D',
        dirs.restored,
        '-m',
        'immediate',
        'stop',
      ]),
    );
    const restored = await eventually(
      async () => {
        const c = await connect(restoredPort, 'rag');
        const r = await c.query<{ promoted: boolean }>(
          'SELECT NOT pg_is_in_recovery() AS promoted',
        );
        if (r.rows[0].promoted) return c;
        await c.end();
        return undefined;
      },
      { timeoutMs: 300_000, intervalMs: 50, what: 'the restored server promoted and serving' },
    );
    const rtoMs = Date.now() - restoreStarted;
    const rows = (
      await restored.query<{ id: string; t: Date }>(
        'SELECT id, written_at AS t FROM drill_markers ORDER BY id',
      )
    ).rows;
    await restored.end();
    const restoredIds = new Set(rows.map((r) => Number(r.id)));
    const before = committed.filter((m) => m.writtenAt <= targetMs);
    const newest = Math.max(...rows.map((r) => r.t.getTime()));
    return {
      markersWritten: committed.length,
      markersBeforeTarget: before.length,
      markersRestored: rows.length,
      markersLost: before.filter((m) => !restoredIds.has(m.id)).length,
      markersAfterTargetRestored: committed.filter(
        (m) => m.writtenAt > targetMs && restoredIds.has(m.id),
      ).length,
      target,
      rpoMs: targetMs - newest,
      rtoMs,
      walSegmentsArchived: segments,
    };
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    rmSync(root, { recursive: true, force: true });
  }
}
