import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { tsNodeEnv } from '../../../test-support/ts-node-env';

// The drills call the service's API like any client: with an API key. It is made the way an
// operator makes one (`npm run apikey`, the service's CLI, on the drill service's database) once
// the service has migrated its schema, and every drill request sends it.

const repoRoot = path.resolve(__dirname, '../../..');
let current: string | undefined;

/** Creates a super admin key on the database in `env` (DATABASE_URL) and uses it from now on. */
export function createDrillApiKey(env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [
        '-r',
        'ts-node/register/transpile-only',
        'app/src/cli/apikey.ts',
        'create',
        '--principal',
        `drill-${randomUUID()}`,
        '--create-principal',
        '--super-admin',
      ],
      {
        cwd: repoRoot,
        env: { PATH: process.env.PATH ?? '', TS_NODE_TRANSPILE_ONLY: '1', ...tsNodeEnv(), ...env },
      },
      (err, stdout, stderr) => {
        if (err) return reject(new Error(`npm run apikey failed: ${stderr}`));
        current = stdout.trim();
        resolve(current);
      },
    );
  });
}

/** The Authorization header of the drills' key (none before one was created). */
export function drillAuthHeaders(): Record<string, string> {
  return current ? { authorization: `Bearer ${current}` } : {};
}

/** The drills' key, for runbook commands (`$RAG_API_KEY`); empty before one was created. */
export function drillApiKey(): string {
  return current ?? '';
}
