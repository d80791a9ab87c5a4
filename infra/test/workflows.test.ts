import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parse } from 'yaml';
import { repoRoot } from './support/stack-under-mocks';

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
});
