'use strict';
// Mocha's spec output, plus one closing line in the plain "N passed, N failed, N skipped" form that
// CI reads to tell a run that tested something from one that did not.
//
// With MOCHA_FILE_TIMINGS=<path> it also writes how long each test file took (its hooks included)
// and the slowest tests, as JSON, and prints the slowest files: the suite's time budget is spent
// file by file, so that is where a slow suite is found.
const fs = require('node:fs');
const path = require('node:path');
const { performance } = require('node:perf_hooks');
const Mocha = require('mocha');

const { EVENT_RUN_BEGIN, EVENT_RUN_END, EVENT_SUITE_BEGIN, EVENT_SUITE_END, EVENT_TEST_END } =
  Mocha.Runner.constants;

class SummaryReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    const timingsPath = process.env.MOCHA_FILE_TIMINGS;
    const files = new Map();
    const tests = [];
    let runStart = 0;
    if (timingsPath) {
      const fileOf = (suite) => path.relative(process.cwd(), suite.file ?? '(root)');
      runner.once(EVENT_RUN_BEGIN, () => {
        runStart = Date.now();
      });
      runner.on(EVENT_SUITE_BEGIN, (suite) => {
        if (!suite.parent || !suite.parent.root) return;
        suite.timingStart = Date.now();
      });
      runner.on(EVENT_SUITE_END, (suite) => {
        if (suite.timingStart === undefined) return;
        const file = fileOf(suite);
        const entry = files.get(file) ?? { ms: 0, tests: 0 };
        entry.ms += Date.now() - suite.timingStart;
        files.set(file, entry);
      });
      runner.on(EVENT_TEST_END, (test) => {
        tests.push({ file: fileOf(test), title: test.fullTitle(), ms: test.duration ?? 0 });
        const entry = files.get(fileOf(test)) ?? { ms: 0, tests: 0 };
        entry.tests += 1;
        files.set(fileOf(test), entry);
      });
    }
    runner.once(EVENT_RUN_END, () => {
      const { passes, failures, pending } = runner.stats;
      if (timingsPath) {
        const byFile = [...files].map(([file, e]) => ({ file, ...e })).sort((a, b) => b.ms - a.ms);
        const slowTests = tests.sort((a, b) => b.ms - a.ms).slice(0, 40);
        // Time from process start to the first test: requiring (transpiling) every file.
        const loadMs = Math.round(runStart - performance.timeOrigin);
        fs.writeFileSync(
          timingsPath,
          JSON.stringify(
            { loadMs, runMs: Date.now() - runStart, files: byFile, slowTests },
            null,
            2,
          ),
        );
        process.stdout.write(
          `\nslowest files (load ${loadMs} ms, run ${Date.now() - runStart} ms):\n`,
        );
        for (const f of byFile.slice(0, 15)) {
          process.stdout.write(`${String(f.ms).padStart(8)} ms  ${f.file} (${f.tests} tests)\n`);
        }
      }
      process.stdout.write(`\n${passes} passed, ${failures} failed, ${pending} skipped\n`);
    });
  }
}

module.exports = SummaryReporter;
