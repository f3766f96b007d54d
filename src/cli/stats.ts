import type { Argv, CommandModule } from 'yargs';
import type { StatsDimension, StatsRow } from '../archive/store.js';
import { GENAI_PRICES_VERSION } from '../cost/prices-version.js';
import { priceExchange } from '../cost/price-exchange.js';
import { statsRowsJson, type UnpricedGroup } from '../archive/unpriced-groups.js';
import { NO_ROW, statsJson } from '../archive/stats-json.js';
import { NONE } from '../archive/exchange-filter.js';
import { filterFlags, filterOf, filterProblem, NARROWING_FLAGS, type FilterArgs } from './filter-flags.js';
import { openReader, printJson } from './open-reader.js';
import { printCsv } from './render/csv.js';
import { printBudgets, printRuleStats } from './stats-policy.js';
import { counted, duration, percent, terminalSafe, tokens, usd } from './render/format.js';
import { renderTable, terminalWidth, useColor } from './render/table.js';
import { USAGE } from './command-table.js';

type StatsArgs = FilterArgs & {
  home: string;
  by: StatsDimension | 'rule';
  budgets?: string;
  json: boolean;
  csv: boolean;
};

const DIMENSIONS: (StatsDimension | 'rule')[] = ['model', 'tool', 'host', 'day', 'session', 'user', 'team', 'label', 'rule'];

export const statsCommand: CommandModule<{ home: string }, StatsArgs> = {
  ...USAGE.stats,
  builder: (y: Argv<{ home: string }>) => filterFlags(y
    .option('by', { type: 'string', choices: DIMENSIONS, default: 'model', describe: 'group by' }), 'exchanges')
    .option('json', { type: 'boolean', default: false, describe: 'print JSON instead of a table' })
    .option('csv', { type: 'boolean', default: false, describe: 'print CSV (a header line, one line per group; no total line)' })
    .option('budgets', { type: 'string', describe: 'policy file: spend against each of its budget rules for the current period' })
    .check((a) => {
      if (a.budgets !== undefined) {
        const other = ['since', 'until', 'policy', ...NARROWING_FLAGS].filter((f) => a[f] !== undefined);
        if (a.by !== 'model' || a.csv || other.length > 0) throw new Error(`--budgets reports the current period of each rule: it takes no --by, --csv${other.map((f) => `, --${f}`).join('')}`);
      }
      if (a.json && a.csv) throw new Error('--json and --csv cannot be combined');
      if (a.by === 'team' && a.policy === undefined) throw new Error('--by team needs --policy FILE: its teams: say which proxy users are in which team');
      if (a.policy !== undefined && a.by !== 'team' && a.team === undefined) throw new Error('--policy is read by --by team and --team only (for spend against budgets: --budgets FILE)');
      const problem = filterProblem(a);
      if (problem) throw new Error(problem);
      return true;
    }) as unknown as Argv<StatsArgs>,
  handler: (args) => {
    const read = args.budgets === undefined ? filterOf(args) : { filter: {} };
    if (!read) return;
    const { filter, teams } = read;
    const reader = openReader(args.home);
    try {
      if (args.budgets !== undefined) return printBudgets(reader, args.budgets, args.json);
      if (args.by === 'rule') return printRuleStats(reader, filter, args.json ? 'json' : args.csv ? 'csv' : 'table');
      const by = args.by;
      const { rows, total } = reader.statsTable({ ...filter, by, teams });
      if (args.json) {
        // What the note under the table says, per row: the exchanges with tokens that have no cost, and why.
        return printJson(statsRowsJson(by, rows, reader.unpricedGroups(filter, (input) => priceExchange(input), by), teams));
      }
      if (args.csv) return printCsv(rows.map((r) => statsJson(by, r)), statsJson(by, NO_ROW));
      if (!total) {
        // Name what narrowed it (as `sessions` does): "in this range" read as a time range when none was given.
        const given = (['since', 'until', ...NARROWING_FLAGS] as const).filter((f) => args[f] !== undefined);
        process.stdout.write(given.length > 0 ? `no exchanges match ${given.map((f) => `--${f}`).join(' ')}\n` : 'no exchanges recorded yet\n');
        return;
      }
      const line = (label: string, r: StatsRow): string[] => [
        label, String(r.requests), String(r.errors), tokens(r.inputTokens), tokens(r.outputTokens), percent(r.cacheHitRatio),
        usd(r.costUsd, { partial: r.unpriced > 0 && r.costUsd !== null }), duration(r.latencyP50Ms), duration(r.latencyP95Ms), duration(r.ttftP50Ms), duration(r.ttftP95Ms),
      ];
      process.stdout.write(renderTable(
        [
          // A session id is kept whole (a cut one cannot be passed to `show`).
          { header: by.toUpperCase(), flexible: by !== 'session' }, { header: 'REQS', align: 'right' }, { header: 'ERRS', align: 'right' },
          { header: 'IN', align: 'right' }, { header: 'OUT', align: 'right' }, { header: 'CACHE', align: 'right' }, { header: 'COST', align: 'right' },
          { header: 'P50', align: 'right' }, { header: 'P95', align: 'right' }, { header: 'TTFT50', align: 'right' }, { header: 'TTFT95', align: 'right' },
        ],
        [...rows.map((r) => line(r.key ?? NONE, r)), line('total', total)],
        { width: terminalWidth(process.stdout), color: useColor(process.stdout) },
      ));
      process.stdout.write(`costs priced when recorded, with ${GENAI_PRICES_VERSION} (and --prices overrides, if any)\n`);
      if (total.estimated > 0) process.stdout.write(`tokens and cost of ${counted(total.estimated, 'exchange')} estimated by llmtap: ${total.estimated === 1 ? 'its answer' : 'their answers'} reported no usage (or ${total.estimated === 1 ? 'was' : 'were'} cut before it)\n`);
      process.stdout.write(unpricedNote(reader.unpricedGroups(filter, (input) => priceExchange(input))));
    } finally {
      reader.close();
    }
  },
};

/** Groups named under the table at most; the rest are counted. */
const UNPRICED_SHOWN = 5;

/**
 * Under the table: the exchanges that counted tokens but have no cost (a `+` on a cost
 * leaves them out), by provider, host and model, and why, so the fix (a --prices rule) is
 * one look away. Empty when every exchange with tokens has its cost.
 */
export function unpricedNote(groups: readonly UnpricedGroup[]): string {
  if (groups.length === 0) return '';
  const all = groups.reduce((n, g) => n + g.exchanges, 0);
  const width = String(groups[0]!.exchanges).length;
  const lines = groups.slice(0, UNPRICED_SHOWN).map((g) => `  ${String(g.exchanges).padStart(width)}  ${terminalSafe(g.model ?? '(no model)')} at ${terminalSafe(g.host)}: ${terminalSafe(g.reason)}`);
  const rest = groups.slice(UNPRICED_SHOWN);
  if (rest.length > 0) lines.push(`  … and ${counted(rest.reduce((n, g) => n + g.exchanges, 0), 'exchange')} of ${rest.length} more models`);
  // A model the price list lacks is the one case a user can fix from here.
  if (groups.some((g) => g.reason.startsWith('unknown model'))) lines.push('  a --prices file given to the proxy prices a model the price list lacks (README: Cost)');
  return `no cost for ${counted(all, 'exchange')} that counted tokens:\n${lines.join('\n')}\n`;
}
