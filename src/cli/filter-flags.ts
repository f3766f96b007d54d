import type { Argv } from 'yargs';
import type { ExchangeFilter } from '../archive/exchange-filter.js';
import { ConfigError } from '../config-error.js';
import { loadPolicyFile, NO_SECRETS } from '../policy/load.js';
import { parseTimeArg } from './render/format.js';

/** The filter flags `stats` and `export` share: which exchanges they read. */
export interface FilterArgs {
  since?: string;
  until?: string;
  tool?: string;
  model?: string;
  host?: string;
  user?: string;
  label?: string;
  status?: string;
  team?: string;
  policy?: string;
}

/** Flags that narrow what is read, besides time; `--tunnels` and `--budgets` take none of them. */
export const NARROWING_FLAGS = ['tool', 'model', 'host', 'user', 'label', 'status', 'team'] as const;

export function filterFlags<T>(y: Argv<T>, what: string) {
  return y
    .option('since', { type: 'string', describe: `only ${what} started since a duration ago (24h, 7d) or a date` })
    .option('until', { type: 'string', describe: `only ${what} started before a duration ago (1d) or a date (2026-12-01: before that day)` })
    .option('tool', { type: 'string', describe: 'only this tool (claude-code, codex, openai-sdk, …)' })
    .option('model', { type: 'string', describe: 'only this model (as recorded; a session that switched models matches each of them)' })
    .option('host', { type: 'string', describe: 'only this provider host' })
    .option('user', { type: 'string', describe: 'only this proxy user (--auth)' })
    .option('label', { type: 'string', describe: 'only this run label (llmtap run --label)' })
    .option('status', { type: 'string', describe: 'only this status: 429, a class (4xx, 5xx) or error (any failure)' })
    .option('team', { type: 'string', describe: "only this team's proxy users (needs --policy FILE with teams:)" })
    .option('policy', { type: 'string', describe: 'policy file whose teams: say which proxy users are in which team' });
}

/** The one-line problem with the filter flags, for a command's check(); undefined when they are fine. */
export function filterProblem(a: FilterArgs): string | undefined {
  const since = a.since === undefined ? undefined : parseTimeArg('since', a.since);
  const until = a.until === undefined ? undefined : parseTimeArg('until', a.until);
  if (since !== undefined && until !== undefined && until <= since) return `--until ${a.until} is not after --since ${a.since}`;
  if (a.status !== undefined && !/^([1-5](\d\d|xx)|error)$/i.test(a.status)) return `--status "${a.status}": expected a status such as 429, a class such as 4xx, or error`;
  if (a.team !== undefined && a.policy === undefined) return '--team needs --policy FILE: its teams: say which proxy users are in which team';
  return undefined;
}

/**
 * The flags as a filter, with `teams` read from --policy when given (undefined, with the
 * one-line reason on stderr and exit code 1, when that file does not load).
 */
export function filterOf(a: FilterArgs, now = Date.now()): { filter: ExchangeFilter; teams?: ReadonlyMap<string, string> } | undefined {
  const filter: ExchangeFilter = {
    since: a.since === undefined ? undefined : parseTimeArg('since', a.since, now),
    until: a.until === undefined ? undefined : parseTimeArg('until', a.until, now),
    // Any model that answered: a WebSocket session that switched models is found by each (as tail and the CSV name them all).
    tool: a.tool, anyModel: a.model, host: a.host, user: a.user, label: a.label, status: a.status,
  };
  if (a.policy === undefined) return { filter };
  const teams = teamsOf(a.policy);
  if (!teams) return undefined;
  if (a.team !== undefined) {
    filter.users = [...teams].filter(([, team]) => team === a.team).map(([user]) => user);
    if (filter.users.length === 0) {
      const known = [...new Set(teams.values())].sort();
      process.stderr.write(`llmtap: --team ${a.team}: no such team in ${a.policy} (${known.length ? `teams: ${known.join(', ')}` : 'it has no teams:'})\n`);
      process.exitCode = 1;
      return undefined;
    }
  }
  return { filter, teams };
}

/** The proxy users' teams from a policy file; undefined (exit code 1, the message on stderr) when it does not load. */
function teamsOf(file: string): ReadonlyMap<string, string> | undefined {
  try {
    return loadPolicyFile(file, NO_SECRETS).teams;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`llmtap: --policy ${err.message}\n`);
    process.exitCode = 1;
    return undefined;
  }
}
