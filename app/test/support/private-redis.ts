import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';

/** A throwaway redis-server a test may kill: the run's shared Redis must stay up for the others. */
export async function startPrivateRedis(port: number): Promise<ChildProcess> {
  const proc = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  for (let i = 0; i < 100 && !out.includes('Ready to accept connections'); i++) await sleep(50);
  if (!out.includes('Ready to accept connections')) {
    proc.kill('SIGKILL');
    throw new Error(`private redis-server did not start:\n${out}`);
  }
  return proc;
}

export async function stopPrivateRedis(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  proc.kill('SIGKILL');
  await once(proc, 'exit');
}
