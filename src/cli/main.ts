#!/usr/bin/env node
import '../regexp-fallback.js';
import { readFileSync } from 'node:fs';
import { joinDashValues } from './argv.js';

// What yargs' hideBin gives under node (llmtap does not run under Electron), without loading yargs for it.
const args = joinDashValues(process.argv.slice(2), ['--der']);

// A reader that stops early (`llmtap sessions | head`, `llmtap tail | grep -m1 …`) ends the
// command quietly, as it ends other Unix tools, instead of an EPIPE stack trace; a command
// that watches its own output for this (export's writeLines) is left to do so.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
  if (process.stdout.listenerCount('error') === 1) process.exit(0);
});
const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

// `llmtap --version` alone prints what yargs would print without loading it (nor the
// Unicode width tables its help needs): every invocation pays for what it loads at start.
if (args.length === 1 && args[0] === '--version') process.stdout.write(`${version}\n`);
else await (await import('./command-line.js')).runCommandLine(args, version);
