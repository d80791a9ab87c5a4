import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parse, stringify } from 'yaml';
import { freePort } from '../../app/test/support/service-process';
import { eventually } from '../../test-support/eventually';
import { parseStackConfig } from '../config/stack-config';
import { git, imageAt, lastImageChange, withImage } from '../scripts/image-history';
import { NoSafeRollback, revertImage, skipCi } from '../scripts/revert-image';
import { pageBurnAlerts, watchSlos } from '../scripts/slo-watch';
import { repoRoot } from './support/stack-under-mocks';

// The logic the deploy workflow runs after a failed verification, run here for real: the revert
// against a temporary git repository, the SLO watch against a real Prometheus.

// The scripts run in a scratch repository: ts-node finds no tsconfig there. The run's (it keeps the
// transpile cache) when there is one.
const tsNodeProject = process.env.TS_NODE_PROJECT ?? path.join(repoRoot, 'tsconfig.json');
const digest = (c: string) => `sha256:${c.repeat(64)}`;
const imageOf = (c: string) =>
  `222222222222.dkr.ecr.eu-west-1.amazonaws.com/rag-platform@${digest(c)}`;

describe('delivery scripts: rollback in git', () => {
  let repo: string;
  const file = () => path.join(repo, 'Pulumi.production.yaml');
  const commitAll = (message: string) => {
    git(repo, ['add', '-A']);
    git(repo, ['commit', '--quiet', '-m', message]);
    return git(repo, ['rev-parse', 'HEAD']).trim();
  };
  const setImage = (image: string) =>
    writeFileSync(file(), withImage(readFileSync(file(), 'utf8'), image));
  const configMap = (text: string) => {
    const doc = parse(text) as {
      config: Record<string, unknown>;
    };
    return Object.fromEntries(
      Object.entries(doc.config).map(([k, v]) => [
        k,
        typeof v === 'string' ? v : JSON.stringify(v),
      ]),
    );
  };

  beforeEach(() => {
    repo = mkdtempSync(path.join(tmpdir(), 'rollback-'));
    git(repo, ['init', '--quiet', '-b', 'main']);
    git(repo, ['config', 'user.email', 'test@example.com']);
    git(repo, ['config', 'user.name', 'test']);
    copyFileSync(path.join(repoRoot, 'Pulumi.production.yaml'), file());
    setImage(imageOf('a'));
    commitAll('production runs a');
  });
  afterEach(() => rmSync(repo, { recursive: true, force: true }));

  it('reverts the promotion commit: production goes back to the previous digest, recorded in git', () => {
    setImage(imageOf('b'));
    const promotion = commitAll('Promote b to production');
    writeFileSync(path.join(repo, 'README.md'), 'later work\n');
    commitAll('unrelated later commit');
    const before = readFileSync(file(), 'utf8');

    const r = revertImage(repo, 'production', imageOf('b'));
    assert.equal(r.revertedCommit, promotion);
    assert.equal(r.image, imageOf('a'));
    assert.equal(imageAt(repo, 'HEAD', 'production'), imageOf('a'));
    const message = git(repo, ['log', '-1', '--format=%B']);
    assert.match(message, /^Revert "Promote b to production" \[skip ci\]/);
    assert.ok(message.includes(`This reverts commit ${promotion}`));
    assert.deepEqual(
      git(repo, ['show', '--name-only', '--format=', 'HEAD']).trim().split('\n'),
      ['Pulumi.production.yaml'],
      'the revert touches the stack file only',
    );
    // Only the image line changed, comments kept; the result is a valid production stack.
    const after = readFileSync(file(), 'utf8');
    assert.equal(after, before.replace(digest('b'), digest('a')));
    assert.equal(parseStackConfig('rag-platform', configMap(after)).app.image, imageOf('a'));
    assert.equal(git(repo, ['status', '--porcelain']), '', 'nothing left uncommitted');
  });

  it('reverts a merged promotion pull request (a merge commit) against main', () => {
    git(repo, ['checkout', '--quiet', '-b', 'promote/production']);
    setImage(imageOf('b'));
    commitAll('Promote b to production');
    git(repo, ['checkout', '--quiet', 'main']);
    writeFileSync(path.join(repo, 'README.md'), 'main moved\n');
    commitAll('main moved');
    git(repo, ['merge', '--quiet', '--no-ff', '-m', 'Merge pull request #7', 'promote/production']);
    const merge = git(repo, ['rev-parse', 'HEAD']).trim();
    assert.equal(lastImageChange(repo, 'production').commit, merge);
    const r = revertImage(repo, 'production', imageOf('b'));
    assert.equal(r.revertedCommit, merge);
    assert.equal(imageAt(repo, 'HEAD', 'production'), imageOf('a'));
    assert.equal(readFileSync(path.join(repo, 'README.md'), 'utf8'), 'main moved\n');
  });

  it('restores only the image when a later commit edited the lines around it', () => {
    setImage(imageOf('b'));
    commitAll('Promote b to production');
    const text = readFileSync(file(), 'utf8');
    writeFileSync(file(), text.replace('host: rag.example.com', 'host: api.example.com'));
    commitAll('move the host');
    const r = revertImage(repo, 'production', imageOf('b'));
    assert.equal(r.image, imageOf('a'));
    const after = readFileSync(file(), 'utf8');
    assert.match(after, /host: api\.example\.com/, 'the later change stays');
    assert.match(git(repo, ['log', '-1', '--format=%s']), /^Revert "Promote b to production"/);
    assert.ok(git(repo, ['log', '-1', '--format=%s']).includes(skipCi));
  });

  it('refuses what would not be a rollback: a moved image, a rollback of a rollback, no previous image', () => {
    setImage(imageOf('b'));
    commitAll('Promote b to production');
    assert.throws(() => revertImage(repo, 'production', imageOf('c')), NoSafeRollback);
    revertImage(repo, 'production', imageOf('b'));
    // Production now runs a again through the revert; if that deploy fails too, reverting the
    // revert would bring b back.
    assert.throws(() => revertImage(repo, 'production', imageOf('a')), /itself a rollback/);

    const fresh = mkdtempSync(path.join(tmpdir(), 'rollback-first-'));
    try {
      git(fresh, ['init', '--quiet', '-b', 'main']);
      git(fresh, ['config', 'user.email', 'test@example.com']);
      git(fresh, ['config', 'user.name', 'test']);
      copyFileSync(
        path.join(repoRoot, 'Pulumi.production.yaml'),
        path.join(fresh, 'Pulumi.production.yaml'),
      );
      git(fresh, ['add', '-A']);
      git(fresh, ['commit', '--quiet', '-m', 'first']);
      const first = imageAt(fresh, 'HEAD', 'production')!;
      assert.throws(() => revertImage(fresh, 'production', first), /no previous one/);
    } finally {
      rmSync(fresh, { recursive: true, force: true });
    }
  });

  it('the command-line entry prints the outputs the workflow reads and exits 3 when nothing is safe', () => {
    setImage(imageOf('b'));
    const promotion = commitAll('Promote b to production');
    const cli = (failed: string) =>
      spawnSync(
        process.execPath,
        [
          '-r',
          require.resolve('ts-node/register/transpile-only'),
          path.join(repoRoot, 'infra/scripts/revert-image.ts'),
          'production',
          failed,
        ],
        {
          cwd: repo,
          encoding: 'utf8',
          env: { ...process.env, TS_NODE_PROJECT: tsNodeProject },
        },
      );
    const history = spawnSync(
      process.execPath,
      [
        '-r',
        require.resolve('ts-node/register/transpile-only'),
        path.join(repoRoot, 'infra/scripts/image-history.ts'),
        'production',
        'HEAD',
      ],
      {
        cwd: repo,
        encoding: 'utf8',
        env: { ...process.env, TS_NODE_PROJECT: tsNodeProject },
      },
    );
    assert.equal(history.stdout, `${imageOf('b')}\n`, history.stderr);
    const wrong = cli(imageOf('c'));
    assert.equal(wrong.status, 3, wrong.stderr);
    const ok = cli(imageOf('b'));
    assert.equal(ok.status, 0, ok.stderr);
    const head = git(repo, ['rev-parse', 'HEAD']).trim();
    assert.equal(ok.stdout, `reverted=${promotion}\ncommit=${head}\nimage=${imageOf('a')}\n`);
  });
});

describe('delivery scripts: post-deploy SLO watch against a real Prometheus', function () {
  this.timeout(60_000);
  const alerts = pageBurnAlerts();
  let prometheus: ChildProcess | undefined;
  let created: string | undefined;

  /** A real Prometheus evaluating alerts with the SLO alerts' names and labels, but chosen conditions. */
  async function startWith(conditions: Record<string, string>, loaded = alerts): Promise<string> {
    const dir = mkdtempSync(path.join(tmpdir(), 'slo-watch-'));
    created = dir;
    const port = await freePort();
    const rules = {
      groups: [
        {
          name: 'slo-watch-test',
          rules: loaded.map((alert) => ({
            alert,
            expr: conditions[alert] ?? 'vector(0) > 1',
            labels: { severity: 'critical', slo: `slo-of-${alert}` },
          })),
        },
      ],
    };
    writeFileSync(path.join(dir, 'rules.yaml'), stringify(rules));
    writeFileSync(
      path.join(dir, 'prometheus.yml'),
      stringify({
        global: { evaluation_interval: '1s', scrape_interval: '1s' },
        rule_files: [path.join(dir, 'rules.yaml')],
      }),
    );
    prometheus = spawn(
      'prometheus',
      [
        `--config.file=${path.join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${path.join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      { stdio: 'ignore' },
    );
    const url = `http://127.0.0.1:${port}`;
    await eventually(async () => (await fetch(`${url}/-/ready`)).ok, {
      timeoutMs: 20_000,
      intervalMs: 200,
      what: 'prometheus ready',
    });
    return url;
  }
  afterEach(async () => {
    if (prometheus && prometheus.exitCode === null) {
      const exited = new Promise((r) => prometheus!.once('exit', r));
      prometheus.kill();
      await exited;
    }
    prometheus = undefined;
    if (created) rmSync(created, { recursive: true, force: true });
    created = undefined;
  });

  it('watches the page-level burn-rate alerts generated from the SLOs', () => {
    assert.ok(alerts.length >= 2, alerts.join());
    const generated = readFileSync(path.join(repoRoot, 'alerts/generated/slo.rules.yaml'), 'utf8');
    for (const a of alerts) assert.ok(generated.includes(`alert: ${a}`), a);
  });

  it('fails when a burn alert becomes active during the window', async () => {
    // Active from a moment after the watch starts: the deploy's doing, not an earlier incident.
    const from = Math.ceil(Date.now() / 1000) + 4;
    const prometheus = await startWith({ [alerts[0]]: `vector(time()) > ${from}` });
    const r = await watchSlos({ prometheus, durationMs: 45_000, intervalMs: 500 });
    assert.equal(r.outcome, 'burn', r.message);
    assert.deepEqual(r.active, [`${alerts[0]}{slo="slo-of-${alerts[0]}",alertstate="firing"}`]);
  });

  it('passes a clean window, and does not hold an alert active before the deploy against it', async () => {
    const prometheus = await startWith({ [alerts[1]]: 'vector(1)' });
    // The pre-existing alert must be active before the watch starts for this to mean anything.
    await eventually(
      async () => {
        const res = await fetch(`${prometheus}/api/v1/query?query=ALERTS`);
        return ((await res.json()) as { data: { result: unknown[] } }).data.result.length > 0;
      },
      { timeoutMs: 20_000, intervalMs: 200, what: 'the earlier alert active' },
    );
    const r = await watchSlos({ prometheus, durationMs: 3000, intervalMs: 500 });
    assert.equal(r.outcome, 'pass', r.message);
    assert.ok(r.evaluations >= 2, `${r.evaluations} checks`);
    assert.deepEqual(r.preexisting, [`${alerts[1]}/slo-of-${alerts[1]}`]);
  });

  it('is blind, not passing, when Prometheus does not evaluate the SLO alerts or does not answer', async () => {
    const prometheus = await startWith({}, alerts.slice(1));
    const r = await watchSlos({ prometheus, durationMs: 1000, intervalMs: 500 });
    assert.equal(r.outcome, 'blind');
    assert.match(r.message, new RegExp(alerts[0]));
    const port = await freePort();
    const down = await watchSlos({
      prometheus: `http://127.0.0.1:${port}`,
      durationMs: 1000,
      intervalMs: 500,
      startupTimeoutMs: 1000,
    });
    assert.equal(down.outcome, 'blind');
  });
});

describe('delivery scripts: recording a deploy commit on main', () => {
  let origin: string;
  let work: string;
  const record = (commit: string) =>
    spawnSync('bash', [path.join(repoRoot, 'infra/scripts/record-on-main.sh'), commit], {
      cwd: work,
      encoding: 'utf8',
      env: { ...process.env, RECORD_REMOTE: origin },
    });
  const commitFile = (repo: string, file: string, content: string, message: string) => {
    writeFileSync(path.join(repo, file), content);
    git(repo, ['add', file]);
    git(repo, ['commit', '--quiet', '-m', message]);
    return git(repo, ['rev-parse', 'HEAD']).trim();
  };
  const identity = (repo: string) => {
    git(repo, ['config', 'user.email', 'bot@example.com']);
    git(repo, ['config', 'user.name', 'bot']);
  };

  beforeEach(() => {
    origin = mkdtempSync(path.join(tmpdir(), 'origin-'));
    git(origin, ['init', '--quiet', '--bare', '-b', 'main']);
    work = mkdtempSync(path.join(tmpdir(), 'work-'));
    git(work, ['clone', '--quiet', origin, '.']);
    identity(work);
    commitFile(work, 'Pulumi.staging.yaml', 'image: a\n', 'start');
    git(work, ['push', '--quiet', 'origin', 'HEAD:main']);
  });
  afterEach(() => {
    rmSync(origin, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  });

  it('fast-forwards main to the commit when main has not moved', () => {
    const commit = commitFile(work, 'Pulumi.staging.yaml', 'image: b\n', 'Deploy b [skip ci]');
    const r = record(commit);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(git(origin, ['rev-parse', 'main']).trim(), commit);
    assert.equal(r.stdout, `recorded=${commit}\n`);
  });

  it('merges the commit into a main that moved, keeping both and the commit’s message', () => {
    const base = git(work, ['rev-parse', 'HEAD']).trim();
    const commit = commitFile(work, 'Pulumi.staging.yaml', 'image: b\n', 'Deploy b [skip ci]');
    // Someone else's merge lands first.
    const other = mkdtempSync(path.join(tmpdir(), 'other-'));
    try {
      git(other, ['clone', '--quiet', origin, '.']);
      identity(other);
      commitFile(other, 'README.md', 'moved\n', 'main moved');
      git(other, ['push', '--quiet', 'origin', 'HEAD:main']);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
    const r = record(commit);
    assert.equal(r.status, 0, r.stderr);
    const main = git(origin, ['rev-parse', 'main']).trim();
    assert.notEqual(main, base);
    assert.equal(git(origin, ['show', 'main:Pulumi.staging.yaml']), 'image: b\n');
    assert.equal(git(origin, ['show', 'main:README.md']), 'moved\n');
    assert.equal(git(origin, ['log', '-1', '--format=%s', 'main']).trim(), 'Deploy b [skip ci]');
    assert.equal(
      git(origin, ['rev-parse', 'main^2']).trim(),
      commit,
      'the deployed commit is in history',
    );
  });
});
