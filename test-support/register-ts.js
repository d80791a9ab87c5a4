'use strict';
// mocha's TypeScript hook (.mocharc.json): ts-node, transpile-only, through the transpile cache
// (ts-transpile-cache.js). The setting goes in the environment, so the processes the tests start
// from TypeScript sources read the same cache.
const path = require('node:path');

process.env.TS_NODE_PROJECT ??= path.join(__dirname, 'tsconfig.ts-node.json');
require('ts-node/register/transpile-only');
