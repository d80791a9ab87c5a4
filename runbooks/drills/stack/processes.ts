import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { homedir } from 'node:os';
import path from 'node:path';
import { freePort } from '../../../test-support/free-port';

export { freePort };

// Child processes of a drill: the real servers it starts and the tools it runs.

export const repoRoot = path.resolve(__dirname, '../../..');

/**
 * A tool the project builds from its Go module (scripts/tools/*.sh) into GOPATH/bin, such as the
 * Alertmanager at the deployed version: Debian's older one cannot load the shipped config.
 */
export function goTool(name: string): string {
  return path.join(process.env.GOPATH ?? path.join(homedir(), 'go'), 'bin', name);
}

export interface Started {
  readonly child: ChildProcess;
  output(): string;
  exited(): boolean;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** A long-running server; its output is kept (the tail goes into failure messages). */
export function startProcess(
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Started {
  const child = spawn(command, args, {
    cwd: options.cwd ?? repoRoot,
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (d: Buffer) => {
    output = (output + d.toString()).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let done = false;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => {
      done = true;
      resolve();
    }),
  );
  return {
    child,
    output: () => output,
    exited: () => done,
    async stop(signal = 'SIGTERM') {
      if (done) return;
      child.kill(signal);
      await exit;
    },
  };
}

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a tool to completion; never throws for a non-zero exit (the caller judges it). */
export function run(
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {},
): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      {
        cwd: options.cwd ?? repoRoot,
        env: options.env ?? process.env,
        timeout: options.timeoutMs ?? 120_000,
        maxBuffer: 64 * 1024 * 1024,
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}

/** Runs a tool and throws with its output when it fails. */
export async function runOk(
  command: string,
  args: string[],
  options: Parameters<typeof run>[2] = {},
): Promise<string> {
  const r = await run(command, args, options);
  if (r.code !== 0) {
    throw new Error(`${command} ${args.join(' ')} exited ${r.code}:\n${r.stdout}${r.stderr}`);
  }
  return r.stdout;
}
