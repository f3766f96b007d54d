/**
 * Preloaded with `node --import` to list every module a process loads, one URL or path a
 * line, into the file named by LLMTAP_MODULE_TRACE: ES modules as the loader loads them
 * (the hook writes each line before the module runs, so a process that exits at once
 * still lists it) and CommonJS ones (a package loaded with require) from the require
 * cache when the process exits. Plain JavaScript so that node runs it without a transform.
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';

const out = process.env.LLMTAP_MODULE_TRACE;
if (!out) throw new Error('module-trace: set LLMTAP_MODULE_TRACE to the file to write');
writeFileSync(out, '');
register('./module-trace-hooks.mjs', import.meta.url, { data: { out } });
const cache = createRequire(import.meta.url).cache;
process.on('exit', () => appendFileSync(out, Object.keys(cache).map((path) => `${path}\n`).join('')));
