import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { snapshotEstimate, snapshotOffThread, type SnapshotResult } from '../archive/snapshot.js';
import { existingArchive, printJson } from './open-reader.js';
import { duration } from './render/format.js';
import { USAGE } from './command-table.js';

interface BackupArgs {
  home: string;
  file: string;
  json: boolean;
}

const REDRAW_MS = 250;

/** Why FILE cannot take the copy (an existing file, a missing directory), or undefined. */
export function backupTargetProblem(file: string): string | undefined {
  const target = resolve(file);
  if (existsSync(target)) return `backup ${file}: already exists; name a new file (a copy never overwrites one)`;
  const dir = dirname(target);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return `backup ${file}: no such directory ${dir}`;
  return undefined;
}

/** 950 → "950 B", 1_500_000 → "1.5 MB" (decimal units, as `ls -h --si` and disk sizes). */
export function bytesText(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  let v = n;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return i === 0 ? `${v} B` : `${v >= 100 ? v.toFixed(0) : v.toFixed(1)} ${units[i]}`;
}

export const backupCommand: CommandModule<{ home: string }, BackupArgs> = {
  ...USAGE.backup,
  builder: (y: Argv<{ home: string }>) => y
    .positional('file', { type: 'string', demandOption: true, describe: 'the copy to write (a new file; created 0600)' })
    .option('json', { type: 'boolean', default: false, describe: 'print the result as JSON' })
    .check((a) => {
      const problem = backupTargetProblem(a.file);
      if (problem) throw new Error(problem);
      return true;
    }) as unknown as Argv<BackupArgs>,
  handler: async (args: ArgumentsCamelCase<BackupArgs>) => {
    const source = existingArchive(args.home);
    const dest = resolve(args.file);
    const result = await snapshotWithProgress(source, dest);
    if (args.json) return printJson({ source, ...result });
    const check = result.check === 'ok' ? 'quick_check ok' : `quick_check: ${result.check}`;
    const exchanges = `${result.exchanges.toLocaleString('en-US')} exchange${result.exchanges === 1 ? '' : 's'}`;
    process.stdout.write(`backed up ${exchanges} (${bytesText(result.bytes)}) from ${source} to ${dest} in ${duration(result.ms)}; ${check}\n`);
    if (result.check !== 'ok') process.exitCode = 1;
  },
};

/**
 * The snapshot written in a worker thread (one long SQLite statement), while this thread
 * draws `backing up: 340 MB of ~1.2 GB (28 %)` on a terminal from the copy's growing size.
 */
async function snapshotWithProgress(source: string, dest: string): Promise<SnapshotResult> {
  const stream = process.stderr;
  const estimate = stream.isTTY ? snapshotEstimate(source) : 0;
  let drawn = false;
  const timer = stream.isTTY
    ? setInterval(() => {
      const written = existsSync(dest) ? statSync(dest).size : 0;
      drawn = true;
      stream.write(`\rbacking up: ${bytesText(written)} of ~${bytesText(estimate)} (${Math.min(99, Math.floor((written / Math.max(1, estimate)) * 100))} %)`);
    }, REDRAW_MS)
    : undefined;
  try {
    return await snapshotOffThread(source, dest).catch((error: Error) => {
      throw new Error(`backup ${dest}: ${error.message}`);
    });
  } finally {
    clearInterval(timer);
    if (drawn) stream.write('\r\u001b[2K');
  }
}
