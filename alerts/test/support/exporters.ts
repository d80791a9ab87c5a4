import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { freePort } from '../../../app/test/support/service-process';
import { eventually, GiveUp } from '../../../test-support/eventually';

// The exporters the platform runs beside Postgres and Redis, as real processes (Debian's
// prometheus-postgres-exporter and prometheus-redis-exporter) pointed at the test services, so
// the live test can prove the datastore panels and rules have data too.

export interface RunningExporter {
  readonly job: 'postgres-exporter' | 'redis-exporter';
  readonly target: string;
  stop(): Promise<void>;
}

async function startExporter(
  job: RunningExporter['job'],
  command: string,
  args: (listen: string) => string[],
  env: Record<string, string> = {},
): Promise<RunningExporter> {
  const target = `127.0.0.1:${await freePort()}`;
  const child: ChildProcess = spawn(command, args(target), {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let output = '';
  child.stderr?.on('data', (d) => (output += d));
  await eventually(
    async () => {
      if (child.exitCode !== null) throw new GiveUp(`${command} exited: ${output}`);
      return (await fetch(`http://${target}/metrics`)).ok;
    },
    { timeoutMs: 15_000, intervalMs: 100, what: `${command} serving /metrics` },
  ).catch((err) => {
    child.kill('SIGKILL');
    throw new Error(`${(err as Error).message}\n${output}`);
  });
  return {
    job,
    target,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

/** One postgres exporter per Postgres server (primary and each replica) and one redis exporter. */
export async function startDatastoreExporters(env: {
  databaseUrls: string[];
  redisUrl: string;
}): Promise<{ exporters: RunningExporter[]; stop(): Promise<void> }> {
  const exporters: RunningExporter[] = [];
  const stop = async () => {
    await Promise.all(exporters.map((e) => e.stop()));
  };
  try {
    for (const url of env.databaseUrls) {
      const dsn = new URL(url);
      dsn.searchParams.set('sslmode', 'disable');
      exporters.push(
        await startExporter(
          'postgres-exporter',
          'prometheus-postgres-exporter',
          (listen) => [`--web.listen-address=${listen}`],
          { DATA_SOURCE_NAME: dsn.toString() },
        ),
      );
    }
    exporters.push(
      await startExporter('redis-exporter', 'prometheus-redis-exporter', (listen) => [
        '-redis.addr',
        env.redisUrl,
        '-web.listen-address',
        listen,
      ]),
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return { exporters, stop };
}
