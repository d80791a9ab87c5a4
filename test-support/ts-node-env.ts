/**
 * What a child process started from TypeScript sources (`node -r ts-node/register/transpile-only`)
 * needs from this one to read the run's transpile cache (test-support/ts-transpile-cache.js), for
 * children started with an environment of their own rather than this process's.
 */
export function tsNodeEnv(): Record<string, string> {
  const project = process.env.TS_NODE_PROJECT;
  return project ? { TS_NODE_PROJECT: project } : {};
}
