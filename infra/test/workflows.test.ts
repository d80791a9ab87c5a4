import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import * as path from 'node:path';
import { parse } from 'yaml';
import { serviceIdentity } from '../../catalog/service-identity';
import { appContainer } from '../components/rag-app';
import { parseStackConfig } from '../config/stack-config';
import { commentLimit, markerFor, previewComment } from '../scripts/preview-comment';
import { repoRoot, runStack, stackConfigMap } from './support/stack-under-mocks';

// The delivery workflows, linted by the real actionlint and zizmor CLIs (scripts/tools/ installs
// both; scripts/test.sh puts actionlint on PATH, zizmor lives in the tools venv) and checked for
// what the delivery path promises: git says what runs where, a merge applies the reviewed plan,
// a failed verification rolls back in git, and no pull request holds credentials that can change
// a stack. Each check names the first-run failure it would have caught.

const githubDir = path.join(repoRoot, '.github');
const workflowsDir = path.join(githubDir, 'workflows');
const workflows = readdirSync(workflowsDir).filter(
  (f) => f.startsWith('infra-') && f.endsWith('.yml'),
);
const compositeActions = readdirSync(path.join(githubDir, 'actions')).map((d) =>
  path.join(githubDir, 'actions', d, 'action.yml'),
);
const actionlint = (files: string[]) =>
  spawnSync('actionlint', ['-no-color', ...files], { encoding: 'utf8', cwd: repoRoot });
const toolsVenv =
  process.env.RAG_TOOLS_VENV ??
  path.join(process.env.XDG_CACHE_HOME ?? path.join(homedir(), '.cache'), 'rag-platform', 'venv');
const zizmor = (inputs: string[]) =>
  spawnSync(
    path.join(toolsVenv, 'bin', 'zizmor'),
    ['--offline', '--no-progress', '--config', path.join(githubDir, 'zizmor.yml'), ...inputs],
    { encoding: 'utf8', cwd: repoRoot },
  );

interface Step {
  uses?: string;
  run?: string;
  shell?: string;
  id?: string;
  if?: string;
  env?: Record<string, string>;
  with?: Record<string, unknown>;
}
interface Job {
  'runs-on'?: string;
  uses?: string;
  needs?: string | string[];
  if?: string;
  permissions?: Record<string, string>;
  environment?: string;
  concurrency?: { group: string; 'cancel-in-progress': boolean };
  strategy?: { matrix: { include: Record<string, string>[] } };
  steps?: Step[];
  with?: Record<string, string>;
  outputs?: Record<string, string>;
}
interface Workflow {
  on: Record<string, any>;
  permissions?: Record<string, string>;
  defaults?: { run?: { shell?: string } };
  concurrency?: { group: string; 'cancel-in-progress': boolean };
  env?: Record<string, string>;
  jobs: Record<string, Job>;
}
const text = (file: string) => readFileSync(path.join(workflowsDir, file), 'utf8');
const load = (file: string): Workflow => parse(text(file));
const scriptOf = (job: Job) => (job.steps ?? []).map((s) => s.run ?? '').join('\n');
const stepNamed = (job: Job, id: string) => {
  const step = job.steps?.find((s) => s.id === id);
  assert.ok(step, `a step with id ${id}`);
  return step;
};
const allJobs = () =>
  workflows.flatMap((file) =>
    Object.entries(load(file).jobs).map(([name, job]) => ({ file, name, job })),
  );
const deployScript = readFileSync(path.join(repoRoot, 'infra/scripts/verify-deploy.sh'), 'utf8');

describe('delivery workflows: linters', () => {
  it('pass actionlint', () => {
    const result = actionlint(workflows.map((f) => path.join(workflowsDir, f)));
    assert.equal(
      result.error,
      undefined,
      'actionlint must be installed (bash scripts/ensure-tools.sh)',
    );
    assert.equal(result.status, 0, result.stdout + result.stderr);
  });

  it('actionlint rejects a broken workflow (the lint is live)', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'actionlint-'));
    const file = path.join(dir, 'broken.yml');
    writeFileSync(
      file,
      'on: push\njobs:\n  x:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo ${{ github.nope.nope }}\n',
    );
    assert.notEqual(actionlint([file]).status, 0);
  });

  it('pass zizmor (offline audits: pinning, permissions, injection, credentials, triggers)', () => {
    const result = zizmor([githubDir]);
    assert.equal(
      result.error,
      undefined,
      'zizmor must be installed (bash scripts/ensure-tools.sh)',
    );
    assert.equal(result.status, 0, result.stdout + result.stderr);
  });

  it('zizmor flags what the old workflows did (the audit is live)', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'zizmor-'));
    const file = path.join(dir, 'old.yml');
    writeFileSync(
      file,
      [
        'on: push',
        'permissions:',
        '  contents: read',
        '  id-token: write',
        'jobs:',
        '  x:',
        '    runs-on: ubuntu-24.04',
        '    steps:',
        '      - uses: actions/checkout@v4',
        '      - run: echo "${{ github.event.head_commit.message }}"',
        '',
      ].join('\n'),
    );
    const result = zizmor([file]);
    assert.notEqual(result.status, 0);
    for (const audit of ['unpinned-uses', 'template-injection', 'artipacked'])
      assert.match(result.stdout + result.stderr, new RegExp(audit), audit);
  });
});

describe('delivery workflows: hygiene', () => {
  it('pin every action by full commit SHA, with the version it is', () => {
    const files = [...workflows.map((f) => path.join(workflowsDir, f)), ...compositeActions];
    for (const file of files) {
      for (const line of readFileSync(file, 'utf8').split('\n')) {
        const m = /^\s*(?:-\s+)?uses:\s*(\S+)(.*)$/.exec(line);
        if (!m || m[1].startsWith('./')) continue;
        assert.match(m[1], /^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/, `${file}: ${line.trim()}`);
        assert.match(m[2], /^\s+# v\d+\.\d+\.\d+$/, `${file}: ${line.trim()} names its version`);
      }
    }
  });

  it('grant nothing at the workflow level and declare least-privilege permissions per job', () => {
    for (const { file, name, job } of allJobs()) {
      assert.deepEqual(load(file).permissions, {}, file);
      assert.ok(job.permissions, `${file}: ${name} declares its permissions`);
      const p = job.permissions;
      const script = JSON.stringify(job.steps ?? []);
      // OIDC only where a step exchanges the token (Pulumi, AWS) or the called deploy does.
      if (p['id-token'] === 'write')
        assert.ok(
          /setup-deployer|configure-aws-credentials/.test(script) || job.uses,
          `${file}: ${name} asks for id-token without using it`,
        );
      // Nothing writes to the repository with the workflow token: bot commits go through the
      // GitHub App, whose token carries only the permissions its step asks for.
      assert.notEqual(p.contents, 'write', `${file}: ${name}`);
      if (p['pull-requests'] === 'write') {
        assert.equal(p['id-token'], undefined, `${file}: ${name} comments without cloud access`);
        assert.doesNotMatch(script, /setup-deployer|configure-aws-credentials/);
      }
    }
  });

  it('give pull requests read-only credentials only: preview team and preview roles, no secrets, no environment', () => {
    const wf = load('infra-pull-request.yml');
    assert.deepEqual(Object.keys(wf.on), ['pull_request'], 'no pull_request_target');
    assert.doesNotMatch(text('infra-pull-request.yml'), /secrets\./);
    for (const [name, job] of Object.entries(wf.jobs)) {
      assert.equal(job.environment, undefined, name);
      for (const step of job.steps ?? []) {
        if (!step.uses?.endsWith('/setup-deployer')) continue;
        assert.equal(step.with?.['pulumi-team'], 'rag-platform-preview', name);
        assert.match(String(step.with?.['aws-role']), /^\$\{\{[^}]*_PREVIEW[^}]*\}\}$/, name);
        assert.doesNotMatch(String(step.with?.['aws-role']), /DEPLOY/);
      }
    }
    // The deploy role and the deploy team exist only in jobs bound to a GitHub Environment.
    for (const { file, name, job } of allJobs()) {
      const uses = JSON.stringify(job.steps ?? []);
      if (/AWS_ROLE_DEPLOY|rag-platform-deploy"/.test(uses))
        assert.ok(
          job.environment,
          `${file}: ${name} holds deploy credentials outside an environment`,
        );
    }
  });

  it('authenticate to Pulumi Cloud and AWS by OIDC, never a stored token or key', () => {
    for (const file of [...workflows.map((f) => path.join(workflowsDir, f)), ...compositeActions]) {
      const body = readFileSync(file, 'utf8');
      assert.doesNotMatch(body, /PULUMI_ACCESS_TOKEN|AWS_SECRET_ACCESS_KEY|aws-secret-access-key/);
    }
    const action = parse(readFileSync(compositeActions[0], 'utf8')) as { runs: { steps: Step[] } };
    const auth = action.runs.steps.find((s) => s.uses?.startsWith('pulumi/auth-actions@'));
    assert.equal(auth?.with?.['requested-token-type'], 'urn:pulumi:token-type:access_token:team');
    const pulumi = action.runs.steps.find((s) => s.uses?.startsWith('pulumi/actions@'));
    assert.deepEqual(Object.keys(pulumi?.with ?? {}), ['pulumi-version'], 'installs the CLI only');
    for (const file of workflows)
      assert.match(load(file).env?.PULUMI_VERSION ?? '3.0.0', /^\d+\.\d+\.\d+$/);
  });

  it('never cancel a deploy: one group per stack, cancel-in-progress false', () => {
    assert.deepEqual(load('infra-deploy-staging.yml').concurrency, {
      group: 'pulumi-staging',
      'cancel-in-progress': false,
    });
    assert.deepEqual(load('infra-deploy-production.yml').concurrency, {
      group: 'pulumi-production',
      'cancel-in-progress': false,
    });
    assert.deepEqual(load('infra-drift.yml').jobs.drift.concurrency, {
      group: 'pulumi-${{ matrix.stack }}',
      'cancel-in-progress': false,
    });
    // The reusable deploy runs only inside one of those groups.
    for (const { file, job } of allJobs())
      if (job.uses === './.github/workflows/infra-deploy.yml')
        assert.equal(load(file).concurrency?.['cancel-in-progress'], false, file);
    // Only a preview may be superseded, and a preview changes nothing.
    for (const { file, name, job } of allJobs())
      if (job.concurrency?.['cancel-in-progress'])
        assert.doesNotMatch(scriptOf(job), /pulumi (up|refresh|destroy)/, `${file}: ${name}`);
  });
});

describe('delivery workflows: pipefail', () => {
  // GitHub runs a `run:` step without `shell:` as `bash -e {0}` (no pipefail), and with
  // `shell: bash` as `bash --noprofile --norc -eo pipefail {0}` (workflow syntax reference).
  const githubBash = (script: string, pathPrefix: string, shell: string[]) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'step-'));
    const file = path.join(dir, 'step.sh');
    writeFileSync(file, script);
    return spawnSync(shell[0], [...shell.slice(1), file], {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, PATH: `${pathPrefix}:${process.env.PATH}`, STACK: 'production' },
    });
  };

  it('run every step with bash -eo pipefail: defaults.run.shell bash, no step opts out', () => {
    for (const file of workflows) {
      assert.equal(load(file).defaults?.run?.shell, 'bash', file);
      for (const job of Object.values(load(file).jobs))
        for (const step of job.steps ?? [])
          assert.ok(step.shell === undefined || step.shell === 'bash', `${file}: ${step.shell}`);
    }
    for (const file of compositeActions) {
      const action = parse(readFileSync(file, 'utf8')) as { runs: { steps: Step[] } };
      for (const step of action.runs.steps.filter((s) => s.run))
        assert.equal(step.shell, 'bash', file);
    }
    for (const script of ['verify-deploy.sh', 'record-on-main.sh'])
      assert.match(
        readFileSync(path.join(repoRoot, 'infra/scripts', script), 'utf8'),
        /^set -euo pipefail$/m,
      );
  });

  it('a failing production preview fails its step, though its output is piped to tee', () => {
    // A stand-in for the CLI: a mandatory policy violation makes `pulumi preview` exit 1.
    const bin = mkdtempSync(path.join(tmpdir(), 'fake-pulumi-'));
    writeFileSync(
      path.join(bin, 'pulumi'),
      '#!/bin/sh\necho "error: mandatory policy violation"\nexit 1\n',
    );
    chmodSync(path.join(bin, 'pulumi'), 0o755);
    const preview = stepNamed(load('infra-pull-request.yml').jobs.preview, 'preview').run!;
    const asWritten = githubBash(preview, bin, [
      'bash',
      '--noprofile',
      '--norc',
      '-eo',
      'pipefail',
    ]);
    assert.notEqual(asWritten.status, 0, 'the step fails');
    // Without the workflow's shell default this very step would have passed.
    const upToTee = preview.split('\n');
    const withoutDefault = githubBash(
      upToTee.slice(0, upToTee.findIndex((l) => l.includes('| tee')) + 1).join('\n'),
      bin,
      ['bash', '-e'],
    );
    assert.equal(withoutDefault.status, 0, withoutDefault.stderr);
  });
});

describe('delivery workflows: git is the source of truth', () => {
  /** `pulumi config set [--path] [--stack s] key value` as the CLI documents it, on a config map. */
  function configSet(map: Record<string, string>, key: string, value: string, usesPath: boolean) {
    const project = 'rag-platform';
    if (!usesPath) return { ...map, [`${project}:${key}`]: value };
    const [top, ...rest] = key.split('.');
    const doc = map[`${project}:${top}`] ? JSON.parse(map[`${project}:${top}`]) : {};
    let node = doc;
    for (const segment of rest.slice(0, -1)) node = node[segment] ??= {};
    node[rest[rest.length - 1]] = value;
    return { ...map, [`${project}:${top}`]: JSON.stringify(doc) };
  }
  const configSets = () =>
    allJobs().flatMap(({ file, name, job }) =>
      [...scriptOf(job).matchAll(/pulumi config set ([^\n]+)/g)].map((m) => {
        const words = m[1].split(/\s+/);
        const stack = words[words.indexOf('--stack') + 1];
        const positional = words.filter(
          (w, i) => !w.startsWith('--') && words[i - 1] !== '--stack',
        );
        return {
          where: `${file}: ${name}`,
          stack,
          key: positional[0],
          usesPath: words.includes('--path'),
        };
      }),
    );
  const digestImage = `222222222222.dkr.ecr.eu-west-1.amazonaws.com/rag-platform@sha256:${'c'.repeat(64)}`;

  it('sets app.image with --path semantics, which the stack schema accepts (config-map would not)', () => {
    const sets = configSets();
    assert.deepEqual(sets.map((s) => [s.stack, s.key]).sort(), [
      ['production', 'app.image'],
      ['staging', 'app.image'],
    ]);
    for (const s of sets) {
      assert.ok(s.usesPath, `${s.where}: a nested key needs --path`);
      const map = configSet(stackConfigMap(s.stack as 'staging'), s.key, digestImage, s.usesPath);
      assert.equal(parseStackConfig('rag-platform', map).app.image, digestImage, s.where);
      // What the old workflow's `config-map` did (setAllConfig without path): a literal key.
      const literal = configSet(stackConfigMap(s.stack as 'staging'), s.key, digestImage, false);
      assert.throws(
        () => parseStackConfig('rag-platform', literal),
        /rag-platform:app\.image: unknown key/,
      );
    }
    for (const { file, job } of allJobs())
      for (const step of job.steps ?? [])
        assert.equal(
          step.with?.['config-map'],
          undefined,
          `${file}: config-map sets no nested key`,
        );
  });

  it('commits the digest staging runs on main, and deploys that commit', () => {
    const wf = load('infra-deploy-staging.yml');
    assert.deepEqual(wf.on.push['paths-ignore'], ['Pulumi.production.yaml']);
    const record = scriptOf(wf.jobs.record);
    assert.match(record, /pulumi config set --stack staging --path app\.image "\$IMAGE"/);
    assert.match(record, /git commit [^\n]*\[skip ci\]/, 'the bot commit starts no second run');
    assert.match(record, /bash infra\/scripts\/record-on-main\.sh "\$COMMIT"/);
    assert.equal(
      stepNamed(wf.jobs.record, 'commit').env?.IMAGE,
      '${{ needs.build.outputs.image }}',
    );
    assert.equal(wf.jobs.deploy.uses, './.github/workflows/infra-deploy.yml');
    assert.deepEqual(wf.jobs.deploy.with, {
      stack: 'staging',
      commit: '${{ needs.record.outputs.commit }}',
    });
  });

  it('deploys exactly the commit it is given, with nothing set in the checkout', () => {
    const deploy = load('infra-deploy.yml').jobs.deploy;
    const checkout = deploy.steps!.find((s) => s.uses?.startsWith('actions/checkout@'));
    assert.equal(checkout?.with?.ref, '${{ inputs.commit }}');
    const script = scriptOf(deploy);
    assert.doesNotMatch(script, /pulumi config set|stack output image --stack "\$STACK"\)" *\]/);
    assert.match(script, /test "\$\(git rev-parse HEAD\)" = "\$COMMIT"/);
    assert.match(script, /pulumi up "\$\{args\[@\]\}"/);
    // The image the run reports (and promotion carries) is the one the commit names.
    assert.match(stepNamed(deploy, 'up').run!, /image-history\.ts "\$STACK" HEAD\)"/);
    assert.equal(deploy.outputs?.image, '${{ steps.up.outputs.image }}');
  });

  it('promotes through a pull request that sets production to the digest staging verified', () => {
    const wf = load('infra-deploy-staging.yml');
    const promote = wf.jobs.promote;
    assert.deepEqual(promote.needs, ['record', 'deploy']);
    const step = promote.steps!.find((s) => /gh pr create/.test(s.run ?? ''))!;
    assert.equal(
      step.env?.IMAGE,
      '${{ needs.deploy.outputs.image }}',
      'carried from the verifying run',
    );
    assert.match(step.run!, /pulumi config set --stack production --path app\.image "\$IMAGE"/);
    assert.match(step.run!, /--body-file pr-body\.md/);
    assert.doesNotMatch(
      step.run!,
      /git commit[^\n]*skip ci/,
      'its merge must start deploy-production',
    );
    // The App's token, so the pull request's own workflow runs and comments the production preview.
    assert.equal(step.env?.GH_TOKEN, '${{ steps.bot.outputs.token }}');
  });

  it('applies a merged change to production with the plan its reviewed preview saved for that tree', () => {
    const pr = load('infra-pull-request.yml').jobs.preview;
    assert.match(stepNamed(pr, 'preview').run!, /--save-plan out\/plan\.json/);
    const upload = pr.steps!.filter((s) => s.uses?.startsWith('actions/upload-artifact@'));
    assert.ok(
      upload.some((s) => s.with?.name === 'production-plan-${{ steps.tree.outputs.tree }}'),
    );
    assert.match(stepNamed(pr, 'preview').run!, /git rev-parse 'HEAD\^\{tree\}' > out\/tree/);
    const wf = load('infra-deploy-production.yml');
    assert.deepEqual(wf.on, { push: { branches: ['main'], paths: ['Pulumi.production.yaml'] } });
    assert.match(scriptOf(wf.jobs['reviewed-plan']), /artifact="production-plan-\$tree"/);
    assert.deepEqual(wf.jobs.deploy.with, {
      stack: 'production',
      commit: '${{ github.sha }}',
      'plan-artifact': '${{ needs.reviewed-plan.outputs.artifact }}',
      'plan-run-id': '${{ needs.reviewed-plan.outputs.run-id }}',
    });
    assert.match(scriptOf(load('infra-deploy.yml').jobs.deploy), /args\+=\(--plan "\$PLAN"\)/);
  });

  it('detects drift against git alone: nothing pinned from the live stack', () => {
    for (const file of workflows)
      assert.doesNotMatch(
        text(file),
        /stack output image --stack "\$STACK"\)" *&&|config set[^\n]*stack output/,
      );
    const drift = load('infra-drift.yml').jobs.drift;
    assert.equal(
      drift.steps!.find((s) => s.uses?.startsWith('actions/checkout@'))?.with?.ref,
      'main',
    );
    assert.match(
      scriptOf(drift),
      /pulumi preview --stack "\$STACK" --refresh --diff --expect-no-changes/,
    );
    assert.doesNotMatch(scriptOf(drift), /config set/);
  });
});

describe('delivery workflows: verification and rollback', () => {
  it('verify staging and production the same way, then roll back in git on failure', () => {
    for (const file of ['infra-deploy-staging.yml', 'infra-deploy-production.yml'])
      assert.equal(load(file).jobs.deploy.uses, './.github/workflows/infra-deploy.yml', file);
    const wf = load('infra-deploy.yml');
    assert.match(scriptOf(wf.jobs.deploy), /bash infra\/scripts\/verify-deploy\.sh "\$STACK"/);
    assert.equal(wf.jobs.rollback.if, "failure() && needs.deploy.result == 'failure'");
    const rollback = scriptOf(wf.jobs.rollback);
    assert.match(rollback, /infra\/scripts\/revert-image\.ts "\$STACK" "\$FAILED_IMAGE"/);
    assert.match(rollback, /record-on-main\.sh "\$REVERT"/);
    assert.match(
      rollback,
      /git checkout --quiet --detach "\$REVERT"[\s\S]*pulumi up --stack "\$STACK"/,
    );
    assert.match(rollback, /GITHUB_STEP_SUMMARY/);
    // The runbook the summary points to exists.
    for (const m of text('infra-deploy.yml').matchAll(/runbooks\/[\w/-]+\.md/g))
      assert.ok(existsSync(path.join(repoRoot, m[0])), m[0]);
  });

  it('verification: smoke test, the k6 smoke script the load tests own, and a configurable SLO watch', () => {
    assert.match(deployScript, /curl --fail [^\n]*"\$url\/readyz"/);
    assert.match(deployScript, /k6 run --quiet --env BASE_URL="\$url" loadtest\/k6\/smoke\.js/);
    assert.ok(existsSync(path.join(repoRoot, 'loadtest/k6/smoke.js')));
    assert.match(deployScript, /slo-watch\.ts[\s\S]*--duration "\$\{SLO_WATCH:-15m\}"/);
    const verify = load('infra-deploy.yml').jobs.deploy.steps!.find((st) =>
      /verify-deploy\.sh/.test(st.run ?? ''),
    );
    assert.equal(verify?.env?.SLO_WATCH, "${{ vars.SLO_WATCH || '15m' }}");
  });

  it('wait for the objects the stacks deploy: the migrate Job and the API Rollout', async () => {
    const run = await runStack('staging');
    const rollout =
      /kubectl -n (\S+) wait rollout\/(\S+) --for=jsonpath='\{\.status\.phase\}'=Healthy/.exec(
        deployScript,
      );
    assert.ok(rollout, 'waits for the Rollout to be Healthy');
    assert.deepEqual(rollout.slice(1), [serviceIdentity.namespace, serviceIdentity.deployment]);
    const declared = run
      .ofType('kubernetes:argoproj.io/v1alpha1:Rollout')
      .filter((r) => r.inputs.metadata.namespace === serviceIdentity.namespace)
      .map((r) => [r.inputs.metadata.namespace, r.inputs.metadata.name]);
    assert.deepEqual(declared, [[serviceIdentity.namespace, serviceIdentity.deployment]]);
    const wait = /kubectl -n (\S+) wait --for=condition=complete job -l (\S+)/.exec(deployScript);
    assert.ok(wait, 'waits for the migration Job');
    assert.equal(wait[1], serviceIdentity.namespace);
    const jobs = run.ofType('kubernetes:batch/v1:Job').filter((j) =>
      wait[2].split(',').every((kv) => {
        const [k, v] = kv.split('=');
        return j.inputs.metadata.labels?.[k] === v;
      }),
    );
    assert.deepEqual(
      jobs.map((j) => j.name),
      [`${serviceIdentity.service}-migrate`],
      'the selector matches exactly the migration Job',
    );
    const prometheus = /port-forward svc\/(\S+) /.exec(deployScript);
    assert.equal(prometheus?.[1], 'kube-prometheus-stack-prometheus');
    assert.match(deployScript, /kubectl -n monitoring port-forward/);
  });

  it('run the pull request image as the cluster does before previewing', () => {
    const wf = load('infra-pull-request.yml');
    assert.deepEqual(wf.jobs.preview.needs, ['test', 'image']);
    const script = scriptOf(wf.jobs.image);
    assert.match(script, new RegExp(`--user ${appContainer.uid}:${appContainer.uid}`));
    assert.match(script, /--read-only --tmpfs \/tmp/);
    assert.ok(script.includes(appContainer.migrateCommand.join(' ')), 'runs migrations first');
  });
});

describe('delivery workflows: reaching the clusters', () => {
  it('every job that talks to a cluster API runs on the runner whose egress the AWS stacks allow-list', async () => {
    const reachesCluster = (job: Job) =>
      /pulumi (up|preview|refresh)|kubectl|verify-deploy\.sh/.test(scriptOf(job));
    const labels = new Set<string>();
    for (const { file, name, job } of allJobs()) {
      if (!job.steps) continue;
      if (reachesCluster(job)) {
        assert.equal(job['runs-on'], 'rag-deployer', `${file}: ${name}`);
        labels.add(job['runs-on']!);
      } else assert.match(job['runs-on'] ?? '', /^ubuntu-/, `${file}: ${name} on a hosted runner`);
    }
    assert.deepEqual([...labels], ['rag-deployer']);
    const actionlintConfig = parse(readFileSync(path.join(githubDir, 'actionlint.yaml'), 'utf8'));
    assert.deepEqual(actionlintConfig['self-hosted-runner'].labels, ['rag-deployer']);
    for (const stack of ['staging', 'production'] as const) {
      const run = await runStack(stack);
      const [cluster] = run.ofType('aws:eks/cluster:Cluster');
      assert.equal(cluster.inputs.vpcConfig.endpointPublicAccess, true, stack);
      assert.ok(cluster.inputs.vpcConfig.publicAccessCidrs.length > 0, stack);
      for (const cidr of cluster.inputs.vpcConfig.publicAccessCidrs)
        assert.doesNotMatch(cidr, /\/0$/, stack);
    }
  });
});

describe('delivery workflows: preview text through files', () => {
  it('no preview travels through an environment variable or an expression', () => {
    for (const { file, job } of allJobs()) {
      for (const step of job.steps ?? [])
        for (const value of Object.values(step.env ?? {}))
          assert.doesNotMatch(String(value), /\.outputs\.(output|preview)\b/, `${file}: ${value}`);
    }
    const comment = scriptOf(load('infra-pull-request.yml').jobs.comment);
    assert.match(comment, /-F "body=@\$dir\/comment\.md"/);
  });

  it('a preview larger than an environment variable may hold becomes a comment GitHub accepts, its end kept', () => {
    const lines = Array.from(
      { length: 6000 },
      (_, i) => `    ~ kubernetes:apps/v1:Deployment rag-api-${i} update [diff: ~spec]`,
    );
    const preview = `${lines.join('\n')}\nResources:\n    ~ 6000 to update\n`;
    assert.ok(Buffer.byteLength(preview) > 128 * 1024, 'larger than MAX_ARG_STRLEN');
    const warning = '> **Warning**: replaces `aws:rds/instance:Instance` rag-production-postgres';
    const body = previewComment('production', preview, warning, 'failure');
    assert.ok(body.length <= commentLimit, `${body.length} characters`);
    assert.ok(body.startsWith(markerFor('production')));
    assert.ok(body.includes(warning), 'the stateful warning stays whole');
    assert.match(body, /— \*\*failure\*\*/);
    assert.ok(body.endsWith('    ~ 6000 to update\n\n```\n</details>\n'), 'the summary stays');
    const small = previewComment('staging', 'Resources:\n    3 unchanged\n', '');
    assert.ok(small.includes('Resources:\n    3 unchanged\n'));
  });
});
