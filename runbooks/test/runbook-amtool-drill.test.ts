import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { commandsIn, simpleCommands, type Command } from './support/runbook-commands';

// The runbook commands that need no cluster run here for real: `amtool check-config` and
// `amtool config routes test` against the Alertmanager config alerts/ ships, so a runbook's claim
// about where an alert is routed is the real router's answer, not a reading of the YAML.

const root = path.resolve(__dirname, '../..');
const shippedConfig = 'alerts/generated/alertmanager.yaml';

function offlineAmtool(command: Command): string[][] {
  return simpleCommands(command.text)
    .filter(
      (w) =>
        w[0] === 'amtool' &&
        (w.includes('check-config') || (w.includes('config') && w.includes('routes'))),
    )
    .map((w) =>
      w.includes('check-config')
        ? w
        : // The file stands in for the live Alertmanager's loaded config (amtool prefers it).
          [
            ...w.filter((x) => !x.startsWith('--alertmanager.url')),
            `--config.file=${shippedConfig}`,
          ],
    );
}

function run(words: string[]): { status: number | null; output: string } {
  const r = spawnSync(words[0], words.slice(1), { cwd: root, encoding: 'utf8' });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

function runbookCommands(): Command[] {
  return ['alerts', 'procedures'].flatMap((dir) =>
    readdirSync(path.join(root, 'runbooks', dir))
      .filter((f) => f.endsWith('.md'))
      .flatMap((f) =>
        commandsIn({
          file: `runbooks/${dir}/${f}`,
          text: readFileSync(path.join(root, 'runbooks', dir, f), 'utf8'),
        }),
      ),
  );
}

describe('runbook amtool commands against the shipped Alertmanager config', function () {
  this.timeout(60_000);

  it('every check-config and routes test in runbooks/ succeeds with real amtool', () => {
    const runs = runbookCommands().flatMap((c) => offlineAmtool(c).map((w) => ({ c, w })));
    assert.ok(runs.length >= 2, 'the runbooks lost their amtool routing checks');
    const failures = runs
      .map(({ c, w }) => ({ c, w, r: run(w) }))
      .filter(({ r }) => r.status !== 0)
      .map(({ c, w, r }) => `${c.file}:${c.line}: ${w.join(' ')} exited ${r.status}: ${r.output}`);
    assert.deepEqual(failures, []);
  });

  it('a routes claim the config does not hold fails', () => {
    const [words] = offlineAmtool({
      file: 'runbooks/procedures/x.md',
      line: 1,
      text: 'amtool --alertmanager.url=http://localhost:9093 config routes test --verify.receivers=critical-page severity=warning service=rag-api',
    });
    assert.notEqual(run(words).status, 0);
  });
});
