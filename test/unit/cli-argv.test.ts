import { describe, expect, it } from 'vitest';
import { argumentProblem, closestCommand, commandPath, joinDashValues, missingValue, notANumber, repeatedFlag } from '../../src/cli/argv.js';
import { sameProxyFlags } from '../../src/cli/options.js';
import { parseTimeArg } from '../../src/cli/render/format.js';
import { defaultHome } from '../../src/config.js';
import { prettyLine } from '../../src/log-pretty.js';

const COMMANDS = ['start', 'env', 'ca', 'export', 'sessions', 'show', 'stats', 'tail', 'purge', 'passwd', 'check-config'];

describe('command-line fixes', () => {
  it('joins a lone "-" to the flag before it, so --der - means stdout', () => {
    expect(joinDashValues(['ca', '--der', '-'], ['--der'])).toEqual(['ca', '--der=-']);
    expect(joinDashValues(['ca', '--der', 'x.der', '-'], ['--der'])).toEqual(['ca', '--der', 'x.der', '-']);
  });

  it('joins a time written -1d to its flag (yargs would read the flags -1 and -d), and reads it as 1d ago', () => {
    expect(joinDashValues(['stats', '--since', '-1d', '--until', '-2.5h', '--json'], [])).toEqual(['stats', '--since=-1d', '--until=-2.5h', '--json']);
    expect(joinDashValues(['purge', '--before', '-30d'], [])).toEqual(['purge', '--before=-30d']);
    // Only a sign before a digit: another flag after --since is still a flag.
    expect(joinDashValues(['stats', '--since', '--json'], [])).toEqual(['stats', '--since', '--json']);
    const now = Date.parse('2026-12-06T12:00:00Z');
    expect(parseTimeArg('since', '-1d', now)).toBe(parseTimeArg('since', '1d', now));
    expect(parseTimeArg('since', '-1d', now)).toBe(Date.parse('2026-12-05T12:00:00Z'));
    expect(() => parseTimeArg('since', '+1d', now)).toThrow('--since "+1d": expected a duration such as 24h or 7d');
    // Dates are ISO 8601 only: a number without its unit is not read as a month of 2001.
    for (const loose of ['7', '0', '12', 'foo 2', 'Dec 1', '2026/12/01']) expect(() => parseTimeArg('since', loose, now)).toThrow(`--since "${loose}": expected a duration`);
    expect(parseTimeArg('since', '2026-12-01', now)).toBe(Date.parse('2026-12-01T00:00:00Z'));
    expect(parseTimeArg('since', '2026-12-01T09:30Z', now)).toBe(Date.parse('2026-12-01T09:30:00Z'));
    expect(parseTimeArg('since', '2026-12-01 09:30:15+02:00', now)).toBe(Date.parse('2026-12-01T07:30:15Z'));
    expect(parseTimeArg('since', '2026-12-01T09:30', now)).toBe(new Date(2026, 11, 1, 9, 30).getTime());
  });

  it('names a number flag that did not parse, with what was typed', () => {
    expect(notANumber({ port: Number.NaN, _: [] }, ['start', '--port', 'abc'])).toBe('--port "abc": not a number');
    expect(notANumber({ 'allow-port': [443, Number.NaN], allowPort: [443, Number.NaN] }, ['--allow-port', '443', '--allow-port=x'])).toBe('--allow-port "x": not a number');
    expect(notANumber({ port: 8080 }, ['--port', '8080'])).toBeUndefined();
  });

  it('suggests the closest command for a typo or a prefix, nothing for something unrelated', () => {
    expect(closestCommand('sesions', COMMANDS)).toBe('sessions');
    expect(closestCommand('stat', COMMANDS)).toBe('stats');
    expect(closestCommand('exprot', COMMANDS)).toBe('export');
    expect(closestCommand('check', COMMANDS)).toBe('check-config');
    expect(closestCommand('frobnicate', COMMANDS)).toBeUndefined();
  });

  it("turns yargs' argument errors into one line naming the flag or the argument", () => {
    expect(argumentProblem('Invalid values:\n  Argument: by, Given: "policy", Choices: "model", "tool", "rule"', ['stats', '--by', 'policy'], 'stats'))
      .toBe('--by "policy": expected one of model, tool, rule');
    expect(argumentProblem('Invalid values:\n  Argument: by, Given: "x", Choices: "model"\n  Argument: format, Given: "y", Choices: "jsonl", "har"', ['export'], 'export'))
      .toBe('--by "x": expected one of model; --format "y": expected one of jsonl, har');
    expect(argumentProblem('Not enough non-option arguments: got 0, need at least 1', ['--home', '/h', 'show', '--json'], 'show <id>')).toBe('show needs <id> (usage: llmtap show <id>)');
    expect(argumentProblem('Not enough non-option arguments: got 0, need at least 1', ['policy', 'test'], 'policy test <file>')).toBe('policy test needs <file> (usage: llmtap policy test <file>)');
    expect(argumentProblem('Not enough non-option arguments: got 0, need at least 1', ['policy'], 'policy <command>')).toBe('policy needs <command> (usage: llmtap policy <command>)');
    expect(argumentProblem('Not enough non-option arguments: got 0, need at least 1', ['policy', 'tset'], 'policy <command>'))
      .toBe('policy: a required argument is missing (llmtap policy --help shows the usage)');
    expect(argumentProblem('Unknown arguments: format, z', ['stats', '--format=x', '-z'], 'stats')).toBe('stats: unknown options --format, -z (llmtap stats --help lists what it takes)');
    expect(argumentProblem('Unknown argument: b', ['show', 'a', 'b'], 'show <id>')).toBe('show: unknown argument "b" (llmtap show --help lists what it takes)');
    expect(argumentProblem('Unknown arguments: dry-run, dryRun', ['purge', '--before', '1d', '--dry-run'], 'purge')).toBe('purge: unknown option --dry-run (llmtap purge --help lists what it takes)');
    expect(argumentProblem('Missing required argument: before', ['purge'], 'purge')).toBe('purge: --before is required (llmtap purge --help)');
    expect(argumentProblem('Something\n  went wrong', ['stats'], 'stats')).toBe('Something went wrong');
  });

  it('names a string option given without its value, never a positional that is empty on purpose', () => {
    expect(missingValue({ budgets: '', by: 'model' }, ['stats', '--budgets'])).toBe('--budgets needs a value');
    expect(missingValue({ out: '' }, ['export', '--out='])).toBe('--out needs a value');
    expect(missingValue({ 'allow-target': ['a', ''] }, ['start', '--allow-target', 'a', '--allow-target'])).toBe('--allow-target needs a value');
    expect(missingValue({ label: 'x', command: ['printf', ''] }, ['run', '--label', 'x', '--', 'printf', ''])).toBeUndefined();
    expect(missingValue({ out: 'a.har' }, ['export', '--out', 'a.har'])).toBeUndefined();
    // yargs hands a defaulted option its default when the value is missing.
    expect(missingValue({ format: 'jsonl' }, ['export', '--format'])).toBe('--format needs a value');
    expect(missingValue({ format: 'jsonl', last: 3 }, ['export', '--format', '--last', '3'])).toBe('--format needs a value');
    expect(missingValue({ json: true, since: '7d' }, ['sessions', '--json', '--since', '7d'])).toBeUndefined();
    expect(missingValue({ redact: ['a=b'] }, ['start', '--redact=a=b'])).toBeUndefined();
  });

  it('names a number option given without its value (yargs gives it the default), never one given a number', () => {
    const numbers = ['limit', 'last', 'port'];
    expect(missingValue({ limit: 20, last: 20 }, ['export', '--last'], numbers)).toBe('--last needs a value');
    expect(missingValue({ limit: 20 }, ['sessions', '--limit', '--json'], numbers)).toBe('--limit needs a value');
    expect(missingValue({ port: 8080 }, ['pac', '--port='], numbers)).toBe('--port needs a value');
    expect(missingValue({ limit: 5 }, ['sessions', '--limit', '5'], numbers)).toBeUndefined();
    expect(missingValue({ limit: -3 }, ['export', '--last', '-3'], numbers)).toBeUndefined(); // the value's own check names it
  });

  it('names a flag given twice that takes one value; repeatable options may repeat', () => {
    const aliases = { limit: ['last'], last: ['limit'] };
    expect(repeatedFlag({ tool: ['a', 'b'], _: [] }, ['stats', '--tool', 'a', '--tool', 'b'], [], aliases)).toBe('--tool given 2 times: it takes one value');
    expect(repeatedFlag({ format: ['har', 'csv'] }, ['export', '--format=har', '--format', 'csv'], [], aliases)).toBe('--format given 2 times: it takes one value');
    expect(repeatedFlag({ limit: [2, 3], last: [2, 3] }, ['export', '--limit', '2', '--last', '3'], [], aliases)).toBe('--limit and --last are one option: give it once');
    expect(repeatedFlag({ intercept: ['a', 'b'] }, ['start', '--intercept', 'a', '--intercept', 'b'], ['intercept'], aliases)).toBeUndefined();
    // After `--` the words are the command's own (`llmtap run -- tool --tool a --tool b`).
    expect(repeatedFlag({ tool: 'x', command: ['t', '--tool', 'a', '--tool', 'b'] }, ['run', '--tool', 'x', '--', 't', '--tool', 'a', '--tool', 'b'], [], aliases)).toBeUndefined();
  });

  it('names the proxy and home a printed fix must point at, only where they are not the defaults, quoted for the shell', () => {
    expect(sameProxyFlags({ home: defaultHome(), port: 8080 })).toBe('');
    expect(sameProxyFlags({ home: defaultHome(), host: '127.0.0.1', port: 9000 })).toBe(' --port 9000');
    expect(sameProxyFlags({ home: "/tmp/it's here", host: '0.0.0.0', port: 8080 })).toBe(" --home '/tmp/it'\\''s here' --host '0.0.0.0'");
  });

  it('reads the command words typed: the command, a subcommand, positionals, up to the first option', () => {
    expect(commandPath(['--home', '/h', 'policy', 'test', 'p.yaml', '--since', '7d'])).toEqual(['policy', 'test', 'p.yaml']);
    expect(commandPath(['--json', 'sessions'])).toEqual(['sessions']);
    expect(commandPath(['--version'])).toEqual([]);
  });
});

describe('pretty logs', () => {
  const exchange = { level: 30, time: Date.UTC(2026, 0, 1, 12, 0, 0), msg: 'exchange', method: 'POST', host: 'api.openai.com', path: '/v1/chat/completions', model: 'gpt-4o-mini', tool: 'openai-sdk', status: 200, in: 12, out: 34, ms: 1234, outcome: 'completed' };

  it('an exchange is one line, coloured by status: 2xx green, 4xx yellow, 5xx red, llmtap errors magenta', () => {
    const line = prettyLine(exchange, false);
    expect(line.split('\n')).toHaveLength(1);
    expect(line).toMatch(/^\d\d:\d\d:\d\d 200 POST api\.openai\.com\/v1\/chat\/completions gpt-4o-mini in 12 out 34 1\.2s openai-sdk$/);
    expect(prettyLine(exchange, true)).toContain('\u001b[32m200\u001b[39m');
    expect(prettyLine({ ...exchange, status: 429 }, true)).toContain('\u001b[33m429\u001b[39m');
    expect(prettyLine({ ...exchange, status: 500 }, true)).toContain('\u001b[31m500\u001b[39m');
    expect(prettyLine({ ...exchange, status: 502, code: 'upstream_unreachable', outcome: 'proxy_error' }, true)).toContain('\u001b[35m502 upstream_unreachable\u001b[39m');
  });

  it('a stream the provider ended with its own error after the 200 reads as tail writes it, red: 200 overloaded_error', () => {
    const failed = { ...exchange, level: 40, error: 'overloaded_error' };
    expect(prettyLine(failed, false)).toMatch(/^\d\d:\d\d:\d\d 200 overloaded_error POST api\.openai\.com\/v1\/chat\/completions gpt-4o-mini in 12 out 34 1\.2s openai-sdk$/);
    expect(prettyLine(failed, true)).toContain('\u001b[31m200 overloaded_error\u001b[39m');
  });

  it('values from clients (a model name, a tool, any field) reach the terminal without their control characters', () => {
    const hostile = 'gpt\u001b]0;pwned\u0007\u001b[2J\u009b31m';
    const lines = [
      prettyLine({ ...exchange, model: hostile, tool: hostile, extra: hostile }, true),
      prettyLine({ level: 40, time: 0, msg: hostile, model: hostile, detail: { model: hostile } }, true),
    ];
    for (const line of lines) {
      expect(line).toContain('gpt\ufffd]0;pwned');
      // Only the log's own colours are escape sequences.
      expect(line.replace(/\u001b\[\d+m/g, '')).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
    }
  });

  it('other records are one line with their fields as key=value', () => {
    expect(prettyLine({ level: 40, time: 0, msg: 'destination refused', target: 'x:25', reason: 'port' }, false)).toMatch(/^\d\d:\d\d:\d\d WARN  destination refused target=x:25 reason=port$/);
  });
});
