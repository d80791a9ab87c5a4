// The import boundaries (`npm run lint`, scripts/test.sh). catalog/ is the service definition
// everything else derives from, so arrows point away from it only; the areas that consume it
// (app, alerts, dashboards, infra, loadtest, runbooks) never import each other. What one area
// ships to another crosses as a generated file read by path at runtime (infra reads
// alerts/generated/*.yaml), never as an import of the producer's TypeScript.
// scripts/test/import-boundaries.test.ts runs these rules over a fixture tree with one violation of
// each kind and checks that exactly those are reported.

const areas = 'app|alerts|dashboards|infra|loadtest|runbooks';
const notTests = '^([^/]+/test/|app/bench/)';
const settingsContractTest = 'infra/test/app-settings\\.test\\.ts';
const runbookCommandsTest = 'runbooks/test/runbook-commands\\.test\\.ts';
const drillModelStandIn = 'runbooks/drills/stack/model-endpoints\\.ts';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'catalog-is-upstream',
      comment: 'catalog/ is the source of truth: it imports nothing of the areas derived from it.',
      severity: 'error',
      from: { path: '^catalog/' },
      to: { path: `^(${areas}|scripts)/` },
    },
    {
      name: 'no-cross-area-imports',
      comment:
        "An area's code imports its own modules and catalog/, never another area's internals " +
        '(nor the generate driver in scripts/, which imports the generators).',
      severity: 'error',
      from: { path: `^(${areas})/`, pathNot: `${notTests}|^${drillModelStandIn}$` },
      to: { path: `^(${areas}|scripts)/`, pathNot: '^$1/' },
    },
    {
      name: 'drill-model-stand-in',
      comment:
        "The drills' stand-in for the embedder and chat endpoint answers with the service's own " +
        'local vectors, so a drill ranks exactly as the embedded default does; it reaches nothing ' +
        'else of the service.',
      severity: 'error',
      from: { path: `^${drillModelStandIn}$` },
      to: {
        path: `^(${areas}|scripts)/`,
        pathNot: '^(runbooks/|app/src/rag/embedding/local-embedder\\.ts$)',
      },
    },
    {
      name: 'tests-own-area-and-catalog',
      comment:
        "A test imports its own area and catalog/. Tests that run the real service start it with the app's " +
        'test harness (app/test/support/).',
      severity: 'error',
      from: {
        path: `^(${areas})/test/`,
        pathNot: `^(${settingsContractTest}|${runbookCommandsTest})$`,
      },
      to: {
        path: `^(${areas}|scripts)/`,
        pathNot: '^($1/|app/test/support/)',
      },
    },
    {
      name: 'settings-contract-test',
      comment:
        'The one test that crosses on purpose: infra renders the Vault settings and loads them with ' +
        "the service's own loadConfig, so a setting the service would reject fails before deploy; " +
        'the rendered credentials file, pepper and signing key bundle go through the readers the ' +
        'service uses for them.',
      severity: 'error',
      from: { path: `^${settingsContractTest}$` },
      to: {
        path: `^(${areas}|scripts)/`,
        pathNot:
          '^(infra/|app/src/config\\.ts$|app/src/stores/postgres/database-credentials\\.ts$|app/src/security/api-key-format\\.ts$|app/src/security/jwt/(key-bundle|signing-keys)\\.ts$)',
      },
    },
    {
      name: 'runbook-commands-test',
      comment:
        'Runbook commands name the objects and config keys the Pulumi program declares: this test runs ' +
        "the stacks under infra's mocks and checks `pulumi config set` against the stack schema.",
      severity: 'error',
      from: { path: `^${runbookCommandsTest}$` },
      to: {
        path: `^(${areas}|scripts)/`,
        pathNot:
          '^(runbooks/|infra/test/support/stack-under-mocks\\.ts$|infra/config/stack-config\\.ts$)',
      },
    },
    {
      name: 'bench-drives-k6-through-loadtest',
      comment:
        "The benchmark (npm run bench) runs k6 through loadtest's runner, and the built service through its local stack, and nothing else outside app/.",
      severity: 'error',
      from: { path: '^app/bench/' },
      to: {
        path: `^(${areas}|scripts)/`,
        pathNot: '^(app/|loadtest/src/(k6-runner|local-stack)\\.ts$)',
      },
    },
    {
      name: 'scripts-import-generators-only',
      comment: "scripts/ runs the areas' generators; it reaches no other area module.",
      severity: 'error',
      from: { path: '^scripts/' },
      to: {
        path: `^(${areas})/`,
        pathNot:
          '^(alerts/src/generators|dashboards/src/dashboard-generator|loadtest/src/generator)\\.ts$',
      },
    },
    {
      name: 'domain-is-innermost',
      comment: 'Domain types and errors know nothing of HTTP, storage or the RAG pipeline.',
      severity: 'error',
      from: { path: '^app/src/domain/' },
      to: { path: '^app/src/(http|stores|rag)/' },
    },
    {
      name: 'use-cases-on-the-domain',
      comment:
        'Use cases speak domain types, errors and ports; routes call them and stores implement the ports, never the reverse.',
      severity: 'error',
      from: { path: '^app/src/use-cases/' },
      to: { path: '^app/src/(http|stores|rag|composition)/' },
    },
    {
      name: 'http-through-use-cases',
      comment: 'Routes reach storage only through the use cases.',
      severity: 'error',
      from: { path: '^app/src/http/' },
      to: { path: '^app/src/stores/' },
    },
    {
      name: 'stores-below-http',
      comment: 'Stores report domain errors; the HTTP layer maps them, so stores never import it.',
      severity: 'error',
      from: { path: '^app/src/stores/' },
      to: { path: '^app/src/http/' },
    },
    {
      name: 'no-circular',
      comment: 'Cycles make an import order matter and hide which module owns a concern.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'A relative import that resolves to nothing is a move that missed a reference.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true, path: '^\\.' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: {
      path: '(^|/)(node_modules|generated)/|^loadtest/k6/|^loadtest/test/fixtures/|^scripts/test/fixtures/',
    },
    // Type-only imports are arrows too: a type from another area's internals couples the two.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    moduleSystems: ['es6', 'cjs'],
  },
};
