/**
 * What the built CLI loads before it answers (README "Design": every invocation pays for
 * it): `--version` no package at all, `--help` and a mistyped command no command module and
 * none of the proxy's, archive's or optional formats' packages, `start --help` not the proxy,
 * `stats` the archive driver but not the CSV writer. Each process runs with a preload that
 * lists the modules it loaded. Needs `npm run build`.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { paths } from '../../src/config.js';
import { openArchive } from '../../src/recorder/db.js';

const run = promisify(execFile);
const CLI = resolve('dist/cli/main.js');
const TRACE = resolve('test/helpers/module-trace.mjs');
const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };

/** Packages no startup of a cheap command needs (the proxy's, the archive's, optional formats'). */
const HEAVY = ['better-sqlite3', 'pino', 'undici', '@opentelemetry', 'node-forge', 'prom-client', 'gpt-tokenizer', '@pydantic/genai-prices', 'csv-stringify', 'yaml', 'ajv', 'fzstd', '@smithy'];
/** The command modules (dist/cli/NAME.js): the command table lists them without loading them. */
const COMMAND_MODULES = ['start', 'env', 'run', 'pac', 'ca', 'export', 'sessions', 'show', 'stats', 'search', 'tail', 'replay', 'mock', 'purge', 'backup', 'passwd', 'check-config', 'policy-test', 'cache-report', 'trust', 'doctor'];

let home: string;

beforeAll(() => {
  home = mkdtempSync(join(tmpdir(), 'llmtap-startup-'));
  openArchive(paths(home).archive).close();
});

/** Runs the CLI with the module trace: its exit code, stdout and the modules it loaded. */
async function traced(...args: string[]): Promise<{ code: number; stdout: string; modules: string[] }> {
  const trace = join(home, `trace-${args.join('_').replace(/\W/g, '')}.txt`);
  const env = { ...process.env, LLMTAP_MODULE_TRACE: trace };
  const result = await run(process.execPath, ['--import', TRACE, CLI, ...args], { env }).then(
    ({ stdout }) => ({ code: 0, stdout }),
    (err: { code: number; stdout: string }) => ({ code: err.code, stdout: err.stdout }),
  );
  return { ...result, modules: readFileSync(trace, 'utf8').split('\n').filter(Boolean) };
}

const packages = (modules: string[]) => [...new Set(modules.flatMap((m) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(m)?.[1] ?? []))];
const heavy = (modules: string[]) => packages(modules).filter((name) => HEAVY.some((h) => name === h || name.startsWith(`${h}/`)));
const commandModules = (modules: string[]) => modules.filter((m) => COMMAND_MODULES.some((name) => m.endsWith(`/dist/cli/${name}.js`)));

describe('CLI startup loads only what the command needs', () => {
  it('--version prints the version without loading yargs or any other package; --help and a mistyped command load no command module and nothing heavy', async () => {
    const [ver, help, typo] = await Promise.all([traced('--version'), traced('--help'), traced('sesions')]);
    expect(ver.code).toBe(0);
    expect(ver.stdout).toBe(`${version}\n`);
    expect(ver.modules.some((m) => m.endsWith('/dist/cli/main.js'))).toBe(true); // the trace sees the CLI itself
    expect(packages(ver.modules)).toEqual([]);

    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/llmtap stats +requests, errors, tokens/);
    expect(packages(help.modules)).toContain('yargs');
    expect(heavy(help.modules)).toEqual([]);
    expect(commandModules(help.modules)).toEqual([]);

    expect(typo.code).toBe(2);
    expect(heavy(typo.modules)).toEqual([]);
    expect(commandModules(typo.modules)).toEqual([]);
  });

  it('start --help loads neither the proxy nor its logger; stats loads the archive driver but not the CSV writer or the policy parsers it was not asked for', async () => {
    const [start, stats] = await Promise.all([traced('start', '--help'), traced('stats', '--home', home)]);
    expect(start.code).toBe(0);
    expect(start.stdout).toMatch(/--otlp-endpoint/);
    expect(heavy(start.modules)).toEqual([]);
    expect(start.modules.filter((m) => m.endsWith('/dist/app.js'))).toEqual([]);

    expect(stats.code).toBe(0);
    expect(stats.stdout).toBe('no exchanges recorded yet\n');
    expect(heavy(stats.modules)).toEqual(['better-sqlite3']); // CommonJS, seen through the require cache
  });
});
