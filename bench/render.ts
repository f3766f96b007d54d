/**
 * Re-renders docs/benchmarks.md and docs/benchmarks.svg from the last full run's
 * figures (bench/out/results.json), e.g. after editing bench/analysis.md.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderMarkdown, renderSvg } from './report.js';
import type { BenchResults } from './results.js';

const root = join(import.meta.dirname, '..');
const results = JSON.parse(readFileSync(join(root, 'bench', 'out', 'results.json'), 'utf8')) as BenchResults;
if (results.params.quick) throw new Error('bench/out/results.json is from a --quick run; docs/ only takes a full run');
writeFileSync(join(root, 'docs', 'benchmarks.md'), renderMarkdown(results));
writeFileSync(join(root, 'docs', 'benchmarks.svg'), renderSvg(results));
process.stderr.write('wrote docs/benchmarks.md and docs/benchmarks.svg\n');
