import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import type { ICruiseResult } from 'dependency-cruiser' with { 'resolution-mode': 'import' };
import { serviceIdentity } from '../../catalog/service-identity';
import { appContainer } from '../components/rag-app';
import { repoRoot, runStack, type StackRun } from './support/stack-under-mocks';

// There is no Docker engine here, so the image is checked where it can drift from the cluster: the
// Dockerfile's text against the container spec infra deploys (captured under mocks).

interface Instruction {
  op: string;
  args: string;
}

/** Dockerfile instructions per stage, comments dropped and `\` continuations joined. */
function dockerfileStages(text: string): Instruction[][] {
  const logical = text
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const stages: Instruction[][] = [];
  for (const line of logical) {
    const [, op, args] = /^(\S+)\s+(.*)$/.exec(line) ?? [];
    if (!op) continue;
    if (op.toUpperCase() === 'FROM') stages.push([]);
    stages.at(-1)?.push({ op: op.toUpperCase(), args: args.trim() });
  }
  return stages;
}

const dockerfile = readFileSync(path.join(repoRoot, 'app/Dockerfile'), 'utf8');
const stages = dockerfileStages(dockerfile);
const runtime = stages.at(-1)!;
const last = (op: string) => runtime.filter((i) => i.op === op).at(-1)?.args;
const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));

/** Repository files reachable by imports from the entry points (node_modules not followed). */
async function localModules(entryPoints: string[]): Promise<string[]> {
  const { cruise } = await import('dependency-cruiser');
  const cwd = process.cwd();
  process.chdir(repoRoot);
  try {
    const result = await cruise(entryPoints, {
      doNotFollow: { path: 'node_modules' },
      moduleSystems: ['es6', 'cjs'],
    });
    const { modules } = result.output as ICruiseResult;
    return modules
      .filter((m) => !m.coreModule && !m.couldNotResolve && !m.source.includes('node_modules'))
      .map((m) => m.source);
  } finally {
    process.chdir(cwd);
  }
}

describe('app/Dockerfile agrees with the container infra deploys', function () {
  this.timeout(60_000);
  let run: StackRun;
  let container: any;
  let pod: any;
  let migrate: any;
  before(async () => {
    run = await runStack('production');
    const deployment = run
      .ofType('kubernetes:apps/v1:Deployment')
      .find((d) => d.inputs.metadata.name === serviceIdentity.deployment)!.inputs;
    pod = deployment.spec.template.spec;
    container = pod.containers[0];
    migrate = run.ofType('kubernetes:batch/v1:Job').find((j) => j.name.endsWith('-migrate'))!.inputs
      .spec.template.spec.containers[0];
  });

  it('is multi-stage on node:20-bookworm-slim, the Node major of package.json and the workflows', () => {
    assert.ok(stages.length >= 2, 'multi-stage');
    for (const s of stages) assert.match(s[0].args, /^node:20-bookworm-slim(\s+AS\s+\S+)?$/i);
    assert.match(pkg.engines.node, /^>=20\./);
    for (const f of readdirSync(path.join(repoRoot, '.github/workflows'))) {
      const wf = parse(readFileSync(path.join(repoRoot, '.github/workflows', f), 'utf8'));
      if (wf.env?.NODE_VERSION) assert.equal(wf.env.NODE_VERSION, '20', f);
    }
  });

  it('runs as the non-root UID/GID the pod security context sets', () => {
    assert.equal(last('USER'), `${appContainer.uid}:${appContainer.uid}`);
    assert.equal(pod.securityContext.runAsUser, appContainer.uid);
    assert.equal(pod.securityContext.runAsGroup, appContainer.uid);
    assert.equal(pod.securityContext.runAsNonRoot, true);
  });

  it('exposes the port the container declares and the service listens on (PORT)', () => {
    assert.equal(last('EXPOSE'), String(appContainer.httpPort));
    assert.deepEqual(container.ports, [{ name: 'http', containerPort: appContainer.httpPort }]);
    const env = Object.fromEntries(
      container.env.map((e: { name: string; value: string }) => [e.name, e.value]),
    );
    assert.equal(env.PORT, String(appContainer.httpPort));
  });

  it('starts with node directly, exactly the command the Deployment runs', () => {
    const cmd = JSON.parse(last('CMD')!);
    assert.deepEqual(cmd, [...appContainer.serveCommand]);
    assert.deepEqual(container.command, cmd);
    assert.equal(cmd[0], 'node', 'npm would swallow SIGTERM');
    assert.equal(
      runtime.some((i) => i.op === 'ENTRYPOINT'),
      false,
      'an ENTRYPOINT would prefix it',
    );
    assert.deepEqual(migrate.command, [...appContainer.migrateCommand]);
  });

  it('contains every file the commands load, under its WORKDIR', async () => {
    const copied = runtime
      .filter((i) => i.op === 'COPY' && !i.args.startsWith('--from'))
      .flatMap((i) => i.args.split(/\s+/).slice(0, -1));
    const inImage = (file: string) =>
      copied.some((src) => src === file || file.startsWith(`${src.replace(/\/$/, '')}/`));
    for (const command of [appContainer.serveCommand, appContainer.migrateCommand]) {
      const script = command.at(-1)!;
      assert.ok(!path.isAbsolute(script), 'relative to WORKDIR');
      assert.ok(existsSync(path.join(repoRoot, script)), script);
      assert.ok(inImage(script), `${script} is not copied into the image`);
    }
    assert.ok(inImage('app/migrations'), 'migrations are read from app/migrations at runtime');
    // Every repository module the commands load, following their imports (the service imports
    // the catalog outside app/), so a new import from outside app/src cannot crash the pod.
    for (const file of await localModules(
      [appContainer.serveCommand, appContainer.migrateCommand].map((c) => c.at(-1)!),
    ))
      assert.ok(inImage(file), `${file} is loaded by the service but not copied into the image`);
    assert.ok(inImage('tsconfig.json'), 'ts-node reads tsconfig.json');
    assert.ok(last('WORKDIR'));
    assert.ok(runtime.some((i) => i.op === 'COPY' && /--from=\S+\s+\S*node_modules/.test(i.args)));
    // Every source is in the build context .dockerignore lets through.
    const allowed = readFileSync(path.join(repoRoot, '.dockerignore'), 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('!'))
      .map((l) => l.slice(1).replace(/\/\*\*$/, ''));
    for (const src of copied) assert.ok(allowed.includes(src.replace(/\/$/, '')), `${src} ignored`);
    for (const s of stages)
      for (const i of s.filter((x) => x.op === 'COPY' && !x.args.startsWith('--from')))
        for (const src of i.args.split(/\s+/).slice(0, -1))
          assert.ok(allowed.includes(src.replace(/\/$/, '')), `${src} ignored by .dockerignore`);
  });

  it('installs runtime dependencies only, and ts-node + typescript are runtime dependencies', () => {
    const install = stages.flatMap((s) => s.filter((i) => i.op === 'RUN')).map((i) => i.args);
    assert.ok(install.some((r) => /npm ci\b.*--omit=dev/.test(r)));
    for (const dep of ['ts-node', 'typescript']) {
      assert.ok(pkg.dependencies[dep], `${dep} must be a dependency (the service runs through it)`);
      assert.ok(!pkg.devDependencies?.[dep], dep);
    }
    assert.ok(appContainer.serveCommand.includes('ts-node/register/transpile-only'));
  });

  it('writes nowhere but the /tmp emptyDir: read-only root filesystem, no image VOLUME', () => {
    assert.equal(container.securityContext.readOnlyRootFilesystem, true);
    assert.deepEqual(
      container.volumeMounts.map((m: { mountPath: string }) => m.mountPath),
      [appContainer.writablePath],
    );
    assert.equal(
      stages.flat().some((i) => i.op === 'VOLUME'),
      false,
    );
  });

  it('is what every workflow builds (context: repository root, file: app/Dockerfile)', () => {
    let builds = 0;
    for (const f of readdirSync(path.join(repoRoot, '.github/workflows'))) {
      const wf = parse(readFileSync(path.join(repoRoot, '.github/workflows', f), 'utf8'));
      for (const job of Object.values<any>(wf.jobs))
        for (const step of job.steps ?? []) {
          if (!String(step.uses ?? '').startsWith('docker/build-push-action')) continue;
          builds++;
          assert.equal(step.with?.file, 'app/Dockerfile', `${f}: ${step.id ?? step.name}`);
          assert.equal(step.with?.context, '.', f);
        }
    }
    assert.ok(builds >= 1);
  });
});
