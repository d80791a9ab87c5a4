'use strict';
// A ts-node transpiler (transpile-only) that is TypeScript's own per-file transpile, called exactly
// as ts-node calls it, with each output kept on disk under a hash of everything it depends on: the
// TypeScript version, the compiler options, the module kind, the file name and its content. The
// test suite starts dozens of processes from TypeScript sources (the service, its CLIs, benches,
// drills), and each one spent seconds of CPU transpiling the same files again; with the cache a
// process after the first reads them. A changed file, option or TypeScript has another key, so a
// stale output is never read. Used through test-support/tsconfig.ts-node.json (TS_NODE_PROJECT).
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

// Under node_modules: `npm ci` starts it empty, git ignores it, and every process of a run finds
// the same directory whatever its environment.
const cacheDir = path.join(__dirname, '..', 'node_modules', '.cache', 'ts-transpile');
// Bumped when what is stored changes shape.
const format = 1;

module.exports.create = function create({ service, nodeModuleEmitKind }) {
  const ts = require(
    service.projectLocalResolveHelper(service.options.compiler ?? 'typescript', true),
  );
  // ts-node's own wrapper around TypeScript's transpiler (it reads the package type for node16
  // modules); not in its package exports, so by path.
  const { createTsTranspileModule } = require(
    path.join(path.dirname(require.resolve('ts-node')), 'ts-transpile-module.js'),
  );
  const compilerOptions = service.config.options;
  const transpile = createTsTranspileModule(ts, { compilerOptions, reportDiagnostics: true });
  const packageJsonType = nodeModuleEmitKind === 'nodeesm' ? 'module' : 'commonjs';
  const context = JSON.stringify([format, ts.version, packageJsonType, compilerOptions]);

  return {
    transpile(code, { fileName }) {
      const key = crypto
        .createHash('sha256')
        .update(context)
        .update('\0')
        .update(fileName)
        .update('\0')
        .update(code)
        .digest('hex');
      const file = path.join(cacheDir, key.slice(0, 2), `${key}.json`);
      try {
        return JSON.parse(fs.readFileSync(file, 'utf8'));
      } catch {
        // Not cached yet (or a half-written file from a crashed process): transpile.
      }
      const result = transpile(code, { fileName }, packageJsonType);
      // Outputs with diagnostics are not kept: ts-node reports them, every time.
      if (!result.diagnostics || result.diagnostics.length === 0) {
        const stored = { outputText: result.outputText, sourceMapText: result.sourceMapText };
        try {
          fs.mkdirSync(path.dirname(file), { recursive: true });
          // Written aside and renamed: a process reading concurrently sees all of it or nothing.
          const tmp = `${file}.${process.pid}.tmp`;
          fs.writeFileSync(tmp, JSON.stringify(stored));
          fs.renameSync(tmp, file);
        } catch {
          // A read-only or full disk only costs the speed-up.
        }
      }
      return result;
    },
  };
};
