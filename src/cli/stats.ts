import type { Argv, CommandModule } from 'yargs';
import type { StatsDimension, StatsRow } from '../archive/store.js';
import { ConfigError } from '../config-error.js';
import { GENAI_PRICES_VERSION } from '../cost/prices-version.js';
import { loadPolicyFile, NO_SECRETS } from '../policy/load.js';
import { openReader, printJson } from './open-reader.js';
import { printBudgets, printRuleStats } from './stats-policy.js';
import { duration, parseTimeArg, percent, tokens, usd } from './render/format.js';
import { renderTable, terminalWidth, useColor } from './render/table.js';

interface StatsArgs {
  home: string;
  by: StatsDimension | 'rule';
  budgets?: string;
  policy?: string;
  since?: string;
  until?: string;
  json: boolean;
}

const DIMENSIONS: (StatsDimension | 'rule')[] = ['model', 'tool', 'host', 'day', 'session', 'user', 'team', 'label', 'rule'];

export const statsCommand: CommandModule<{ home: string }, StatsArgs> = {
  command: 'stats',
  describe: 'requests, errors, tokens, cost, latency and cache hits, grouped',
  builder: (y: Argv<{ home: string }>) => y
    .option('by', { type: 'string', choices: DIMENSIONS, default: 'model', describe: 'group by' })
    .option('since', { type: 'string', describe: 'only exchanges since a duration ago (24h, 7d) or a date' })
    .option('until', { type: 'string', describe: 'only exchanges started before a duration ago (1d) or a date (2026-12-01: before that day)' })
    .option('policy', { type: 'string', describe: 'policy file whose teams: (proxy users by team) --by team reads' })
    .option('json', { type: 'boolean', default: false, describe: 'print JSON instead of a table' })
    .option('budgets', { type: 'string', describe: 'policy file: spend against each of its budget rules for the current period' })
    .check((a) => {
      if (a.budgets !== undefined && (a.since !== undefined || a.until !== undefined || a.by !== 'model' || a.policy !== undefined)) {
        throw new Error('--budgets reports the current period of each rule: it takes no --by, --since, --until or --policy');
      }
      if (a.by === 'team' && a.policy === undefined) throw new Error('--by team needs --policy FILE: its teams: say which proxy users are in which team');
      if (a.by !== 'team' && a.policy !== undefined) throw new Error('--policy is read by --by team only (for spend against budgets: --budgets FILE)');
      const since = a.since === undefined ? undefined : parseTimeArg('since', a.since);
      const until = a.until === undefined ? undefined : parseTimeArg('until', a.until);
      if (since !== undefined && until !== undefined && until <= since) throw new Error(`--until ${a.until} is not after --since ${a.since}`);
      return true;
    }) as unknown as Argv<StatsArgs>,
  handler: (args) => {
    const now = Date.now();
    const range = { since: args.since ? parseTimeArg('since', args.since, now) : undefined, until: args.until ? parseTimeArg('until', args.until, now) : undefined };
    const teams = args.policy === undefined ? undefined : teamsOf(args.policy);
    if (args.policy !== undefined && !teams) return;
    const reader = openReader(args.home);
    try {
      if (args.budgets !== undefined) return printBudgets(reader, args.budgets, args.json);
      if (args.by === 'rule') return printRuleStats(reader, range, args.json);
      const by = args.by;
      const { rows, total } = reader.statsTable({ by, ...range, teams });
      if (args.json) return printJson(rows.map((r) => statsJson(by, r)));
      if (!total) {
        process.stdout.write('no exchanges in this range\n');
        return;
      }
      const line = (label: string, r: StatsRow): string[] => [
        label, String(r.requests), String(r.errors), tokens(r.inputTokens), tokens(r.outputTokens), percent(r.cacheHitRatio),
        usd(r.costUsd, { partial: r.unpriced > 0 && r.costUsd !== null }), duration(r.latencyP50Ms), duration(r.latencyP95Ms), duration(r.ttftP50Ms), duration(r.ttftP95Ms),
      ];
      process.stdout.write(renderTable(
        [
          { header: by.toUpperCase(), flexible: true }, { header: 'REQS', align: 'right' }, { header: 'ERRS', align: 'right' },
          { header: 'IN', align: 'right' }, { header: 'OUT', align: 'right' }, { header: 'CACHE', align: 'right' }, { header: 'COST', align: 'right' },
          { header: 'P50', align: 'right' }, { header: 'P95', align: 'right' }, { header: 'TTFT50', align: 'right' }, { header: 'TTFT95', align: 'right' },
        ],
        [...rows.map((r) => line(r.key ?? '(none)', r)), line('total', total)],
        { width: terminalWidth(process.stdout), color: useColor(process.stdout) },
      ));
      process.stdout.write(`costs priced when recorded, with ${GENAI_PRICES_VERSION} (and --prices overrides, if any)\n`);
    } finally {
      reader.close();
    }
  },
};

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

function statsJson(by: StatsDimension, r: StatsRow): Record<string, unknown> {
  return {
    [by]: r.key, requests: r.requests, errors: r.errors,
    tokens: { input: r.inputTokens, output: r.outputTokens, cached_input: r.cachedInputTokens },
    cost_usd: r.costUsd, unpriced_exchanges: r.unpriced,
    latency_ms: { p50: r.latencyP50Ms, p95: r.latencyP95Ms }, ttft_ms: { p50: r.ttftP50Ms, p95: r.ttftP95Ms },
    cache_hit_ratio: r.cacheHitRatio,
  };
}
