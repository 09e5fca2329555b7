#!/usr/bin/env node
// Runs the CLI built to JavaScript in dist/ (`npm run build`; `npm install` and `npm ci` build it
// through the `prepare` script, and the published package ships it). Nothing compiles TypeScript
// at start: compiling plugin/ with tsx at each start cost seconds.
import { existsSync } from 'node:fs';
import process from 'node:process';
import { URL } from 'node:url';

const cli = new URL('../dist/plugin/cli.js', import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write('nextbest is not built (no dist/plugin/cli.js): run `npm run build` in its directory\n');
  process.exit(1);
}
await import(cli.href);
