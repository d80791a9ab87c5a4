import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import { acquireBackingServices, createThrowawayDatabase } from '../../bench/bench-services';
import {
  freePort,
  realServicesEnv,
  spawnService,
  waitReady,
  type ServiceProcess,
} from '../support/service-process';
import { createTestPrincipal } from '../support/test-credential';

// The OpenAPI document is a contract: schemathesis (installed by scripts/tools/schemathesis.sh)
// generates requests from it — valid ones that must be accepted, invalid ones that must be refused,
// undeclared methods that must be 405, and stateful sequences that follow the links between
// operations — and checks every answer against the document with all of its checks on.

const venv =
  process.env.RAG_TOOLS_VENV ??
  path.join(process.env.XDG_CACHE_HOME ?? path.join(homedir(), '.cache'), 'rag-platform/venv');
const schemathesis = path.join(venv, 'bin/schemathesis');

describe('the running service against its OpenAPI document (schemathesis)', function () {
  this.timeout(240_000);
  let service: ServiceProcess | undefined;
  let dropDatabase: (() => Promise<void>) | undefined;
  let apiKey: string;

  before(async () => {
    assert.ok(existsSync(schemathesis), `${schemathesis} missing: run scripts/ensure-tools.sh`);
    // A database of its own: the stateful phase creates and deletes collections freely.
    const database = await createThrowawayDatabase(await acquireBackingServices());
    dropDatabase = database.drop;
    const port = await freePort();
    service = spawnService(
      realServicesEnv(port, {
        ...database.serviceEnv,
        LOG_LEVEL: 'error',
      }),
    );
    await waitReady(service);
    // A super admin, so every operation can be reached; schemathesis also checks that each one
    // refuses a request without it (ignored_auth).
    apiKey = (await createTestPrincipal({ databaseUrl: database.primaryUrl, superAdmin: true }))
      .key;
  });
  after(async () => {
    if (service && service.child.exitCode === null) {
      service.child.kill('SIGTERM');
      await service.exited;
    }
    await dropDatabase?.();
  });

  it('passes every check, stateful phase included', async () => {
    const args = [
      'run',
      new URL('/openapi.json', service!.url).href,
      '--checks',
      'all',
      '--header',
      `Authorization: Bearer ${apiKey}`,
      // Bounded and reproducible: a fixed seed and a fixed number of cases per operation keep the
      // run to about a minute on a loaded 2-core machine.
      '--max-examples',
      '25',
      '--seed',
      '20261130',
      // One worker: with two, hypothesis describes filters by parsing lambda source with `ast` from
      // two threads at once, which CPython 3.11 does not survive ("AST constructor recursion depth
      // mismatch", a crash inside schemathesis, not a finding).
      '--workers',
      '1',
      '--request-timeout',
      '20',
      '--no-color',
      // No example database: every run starts from the seed alone.
      '--generation-database',
      'none',
    ];
    // schemathesis keeps a cache directory in its working directory; not in the repository.
    const workDir = mkdtempSync(path.join(tmpdir(), 'schemathesis-'));
    const result = await new Promise<{ code: number; output: string }>((resolve) => {
      execFile(
        schemathesis,
        args,
        { cwd: workDir, maxBuffer: 64 * 1024 * 1024 },
        (err, stdout, stderr) => {
          const code = err ? ((err as { code?: number }).code ?? 1) : 0;
          resolve({ code: typeof code === 'number' ? code : 1, output: stdout + stderr });
        },
      );
    });
    rmSync(workDir, { recursive: true, force: true });
    assert.equal(result.code, 0, `schemathesis failed:\n${result.output.slice(-20_000)}`);
    assert.match(result.output, /Stateful/, 'the stateful phase ran');
  });
});
