import assert from 'node:assert/strict';
import path from 'node:path';
import type { ICruiseResult, IConfiguration } from 'dependency-cruiser' with {
  'resolution-mode': 'import',
};

// The boundary check must fail on what it forbids, not just pass on a clean tree: the repository's
// own rules run over a fixture tree shaped like the repository, with one violation of each kind
// and a few allowed arrows, and exactly the violations are reported.

const repoRoot = path.resolve(__dirname, '../..');
const fixtureRoot = path.join(__dirname, 'fixtures/boundaries');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const config = require(path.join(repoRoot, '.dependency-cruiser.cjs')) as IConfiguration;

async function violationsIn(root: string): Promise<string[]> {
  const { cruise } = await import('dependency-cruiser');
  // The repository's rules and options, minus its tsconfig (the fixture imports are plain
  // relative paths), cruising the fixture as if it were the repository root.
  const { tsConfig: _tsConfig, ...options } = config.options ?? {};
  const cwd = process.cwd();
  process.chdir(root);
  try {
    const result = await cruise(
      ['catalog', 'app', 'alerts', 'dashboards', 'infra', 'loadtest', 'scripts'],
      { ...options, validate: true, ruleSet: { forbidden: config.forbidden } },
    );
    const output = result.output as ICruiseResult;
    return output.summary.violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`).sort();
  } finally {
    process.chdir(cwd);
  }
}

describe('import boundaries (.dependency-cruiser.cjs)', function () {
  this.timeout(60_000);

  it('reports every forbidden arrow in the fixture and nothing it allows', async () => {
    assert.deepEqual(await violationsIn(fixtureRoot), [
      'bench-drives-k6-through-loadtest: app/bench/run.ts -> dashboards/src/uids.ts',
      'catalog-is-upstream: catalog/leak.ts -> app/src/http/problem.ts',
      'domain-is-innermost: app/src/domain/errors.ts -> app/src/http/problem.ts',
      'no-circular: app/src/stores/a.ts -> app/src/stores/b.ts',
      'no-cross-area-imports: alerts/src/rules.ts -> dashboards/src/uids.ts',
      'no-cross-area-imports: infra/index.ts -> alerts/src/rules.ts',
      'scripts-import-generators-only: scripts/generate.ts -> alerts/src/rules.ts',
      'stores-below-http: app/src/stores/repository.ts -> app/src/http/problem.ts',
      'tests-own-area-and-catalog: alerts/test/uids-check.ts -> dashboards/src/uids.ts',
    ]);
  });
});
