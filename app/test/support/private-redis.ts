import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { eventually, GiveUp } from '../../../test-support/eventually';

/** A throwaway redis-server a test may kill: the run's shared Redis must stay up for the others. */
export async function startPrivateRedis(
  port: number,
  extraArgs: readonly string[] = [],
): Promise<ChildProcess> {
  const proc = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      ...extraArgs,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  await eventually(
    () => {
      if (proc.exitCode !== null) throw new GiveUp(`redis-server exited:\n${out}`);
      return out.includes('Ready to accept connections');
    },
    { timeoutMs: 15_000, what: 'private redis-server ready' },
  ).catch((err) => {
    proc.kill('SIGKILL');
    throw new Error(`private redis-server did not start: ${(err as Error).message}\n${out}`);
  });
  return proc;
}

export async function stopPrivateRedis(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  proc.kill('SIGKILL');
  await once(proc, 'exit');
}
