import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parse } from 'yaml';
import { serviceIdentity } from '../../catalog/service-identity';
import { appContainer } from '../components/rag-app';
import { repoRoot, runStack } from './support/stack-under-mocks';

// The deployment workflows are linted by the real actionlint CLI (scripts/tools/actionlint.sh
// installs it; scripts/test.sh puts it on PATH) and checked for the promotion guarantees.

const workflowsDir = path.join(repoRoot, '.github', 'workflows');
const workflows = readdirSync(workflowsDir).filter(
  (f) => f.startsWith('infra-') && f.endsWith('.yml'),
);
const actionlint = (files: string[]) =>
  spawnSync('actionlint', ['-no-color', ...files], { encoding: 'utf8' });
const load = (file: string): any => parse(readFileSync(path.join(workflowsDir, file), 'utf8'));

describe('infra GitHub Actions workflows', () => {
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

  it('pin the Pulumi CLI, use OIDC for AWS, and keep one concurrency group per stack for deploys', () => {
    assert.equal(workflows.length, 4);
    for (const file of workflows) {
      const text = readFileSync(path.join(workflowsDir, file), 'utf8');
      const wf = load(file);
      assert.match(wf.env.PULUMI_VERSION, /^\d+\.\d+\.\d+$/, file);
      assert.doesNotMatch(
        text,
        /AWS_SECRET_ACCESS_KEY|aws-secret-access-key/,
        `${file} must use OIDC`,
      );
      if (text.includes('configure-aws-credentials'))
        assert.equal(
          wf.permissions['id-token'] ?? wf.jobs.preview?.permissions['id-token'],
          'write',
          file,
        );
    }
    assert.equal(load('infra-deploy-staging.yml').concurrency.group, 'pulumi-staging');
    assert.equal(load('infra-promote-production.yml').concurrency.group, 'pulumi-production');
    assert.equal(
      load('infra-drift.yml').jobs.drift.concurrency.group,
      'pulumi-${{ matrix.stack }}',
    );
  });

  it('promote the digest that passed staging through a saved, reviewed plan', () => {
    const wf = load('infra-promote-production.yml');
    assert.equal(wf.jobs.apply.environment, 'production');
    const plan = JSON.stringify(wf.jobs.plan.steps);
    assert.match(plan, /pulumi stack output image --stack staging/);
    assert.match(plan, /--save-plan plan.json/);
    assert.match(plan, /infra\/policy\/config\/production.json/);
    assert.match(
      JSON.stringify(wf.jobs.apply.steps),
      /pulumi up --stack production --yes --plan plan.json/,
    );
    assert.doesNotMatch(JSON.stringify(wf), /build-push-action/);
  });

  it('detect drift per stack with expect-no-changes', () => {
    const wf = load('infra-drift.yml');
    assert.deepEqual(
      wf.jobs.drift.strategy.matrix.include.map((m: { stack: string }) => m.stack),
      ['staging', 'production'],
    );
    assert.match(JSON.stringify(wf.jobs.drift.steps), /"expect-no-changes":true/);
  });

  it('preview staging and production with the image each stack runs, not the committed placeholder', () => {
    // Deploys set app.image only in the runner's checkout; previewing with the committed stack file
    // would report every deployed digest as drift and roll it back in every PR preview.
    const previews: [string, string][] = [
      ['infra-drift.yml', 'drift'],
      ['infra-pull-request.yml', 'preview'],
    ];
    for (const [file, job] of previews) {
      const steps: { uses?: string; run?: string; with?: Record<string, unknown> }[] =
        load(file).jobs[job].steps;
      const preview = steps.findIndex((s) => s.with?.command === 'preview');
      assert.ok(preview > 0, `${file}: a preview step`);
      const pin = steps.findIndex((s) =>
        /pulumi stack output image --stack "\$STACK"[\s\S]*pulumi config set --stack "\$STACK" --path app\.image/.test(
          s.run ?? '',
        ),
      );
      assert.ok(pin >= 0 && pin < preview, `${file}: pins app.image from the stack output first`);
      const cli = steps.findIndex((s) => s.uses?.startsWith('pulumi/actions@') && !s.with?.command);
      assert.ok(cli >= 0 && cli < pin, `${file}: installs the pinned CLI before using it`);
    }
  });

  it('wait for the objects staging actually deploys: the migrate Job and the API Deployment', async () => {
    const run = await runStack('staging');
    const steps: { run?: string }[] = load('infra-deploy-staging.yml').jobs.deploy.steps;
    const script = steps.map((s) => s.run ?? '').join('\n');
    const rollout = /kubectl -n (\S+) rollout status deployment\/(\S+)/.exec(script);
    assert.ok(rollout, 'waits for the rollout');
    assert.deepEqual(rollout.slice(1), [serviceIdentity.namespace, serviceIdentity.deployment]);
    const deployment = run
      .ofType('kubernetes:apps/v1:Deployment')
      .filter((d) => d.inputs.metadata.namespace === serviceIdentity.namespace)[0].inputs.metadata;
    assert.deepEqual(
      [deployment.namespace, deployment.name],
      [serviceIdentity.namespace, serviceIdentity.deployment],
    );
    const wait = /kubectl -n (\S+) wait --for=condition=complete job -l (\S+)/.exec(script);
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
  });

  it('smoke-test staging with the k6 script the load tests own', () => {
    const steps: { run?: string }[] = load('infra-deploy-staging.yml').jobs.deploy.steps;
    const k6 = steps.map((s) => s.run ?? '').find((r) => r.startsWith('k6 run'));
    assert.equal(k6, 'k6 run --env BASE_URL="$APP_URL" loadtest/k6/smoke.js');
    assert.ok(existsSync(path.join(repoRoot, 'loadtest/k6/smoke.js')));
  });

  it('run the pull request image as the cluster does before previewing', () => {
    const wf = load('infra-pull-request.yml');
    assert.deepEqual(wf.jobs.preview.needs, ['test', 'image']);
    const script = wf.jobs.image.steps.map((s: { run?: string }) => s.run ?? '').join('\n');
    assert.match(script, new RegExp(`--user ${appContainer.uid}:${appContainer.uid}`));
    assert.match(script, /--read-only --tmpfs \/tmp/);
    assert.ok(script.includes(appContainer.migrateCommand.join(' ')), 'runs migrations first');
  });
});
