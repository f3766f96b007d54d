import type { Argv, CommandModule } from 'yargs';
import { countRecords } from '../archive/export.js';
import type { TextSearchRow } from '../archive/store.js';
import { filterFlags, filterOf, filterProblem, type FilterArgs } from './filter-flags.js';
import { openReader, printJson } from './open-reader.js';
import { counted } from './progress.js';
import { localTime } from './render/format.js';
import { renderTable, terminalWidth } from './render/table.js';
import { USAGE } from './command-table.js';

type SearchArgs = FilterArgs & {
  home: string;
  text: string;
  limit: number;
  every: boolean;
  json: boolean;
};

export const searchCommand: CommandModule<{ home: string }, SearchArgs> = {
  ...USAGE.search,
  builder: (y: Argv<{ home: string }>) => filterFlags(y
    .positional('text', { type: 'string', demandOption: true, describe: 'the text to find (any case)' })
    .option('limit', { type: 'number', default: 20, describe: 'at most this many results' })
    .option('every', { type: 'boolean', default: false, describe: 'every matching exchange, not one per session' })
    .option('json', { type: 'boolean', default: false, describe: 'print JSON instead of a table' }), 'exchanges')
    .check((a) => {
      if (String(a.text).trim() === '') throw new Error('search needs a text that is not empty');
      if (!Number.isInteger(a.limit) || a.limit < 1) throw new Error('--limit must be a positive integer');
      const problem = filterProblem(a);
      if (problem) throw new Error(problem);
      return true;
    }) as unknown as Argv<SearchArgs>,
  handler: (args) => {
    const read = filterOf(args);
    if (!read) return;
    const reader = openReader(args.home);
    try {
      const needle = String(args.text).trim().toLowerCase();
      const rows = counted(reader.searchText(read.filter, needle), 'searching exchanges', () => countRecords(reader, 'exchanges', read.filter));
      const found = firstMatches(rows, args.limit, args.every);
      if (args.json) return printJson(found.map(searchJson));
      if (found.length === 0) {
        process.stdout.write(`nothing recorded holds "${args.text}"\n`);
        return;
      }
      process.stdout.write(renderTable(
        [{ header: 'WHEN' }, { header: args.every ? 'EXCHANGE' : 'SESSION' }, { header: 'TOOL', flexible: true }, { header: 'MODEL', flexible: true }, { header: 'IN' }, { header: 'TEXT', flexible: true, min: 40 }],
        found.map((r) => [localTime(r.startedAt), args.every ? r.exchangeId : (r.sessionId ?? r.exchangeId), r.tool ?? '-', r.model ?? '-', r.hit!.in, r.hit!.snippet]),
        { width: terminalWidth(process.stdout) },
      ));
    } finally {
      reader.close();
    }
  },
};

/**
 * The first `limit` rows with a hit, newest first. Unless `every`, one per session: an
 * agent sends its whole conversation again with each turn, so the text is in every later
 * turn of the session that mentioned it, and those would fill the list.
 */
export function firstMatches(rows: Iterable<TextSearchRow>, limit: number, every: boolean): TextSearchRow[] {
  const found: TextSearchRow[] = [];
  const sessions = new Set<string>();
  for (const row of rows) {
    if (!row.hit) continue;
    if (!every && row.sessionId !== null) {
      if (sessions.has(row.sessionId)) continue;
      sessions.add(row.sessionId);
    }
    found.push(row);
    if (found.length >= limit) break;
  }
  return found;
}

function searchJson(r: TextSearchRow): Record<string, unknown> {
  return { exchange_id: r.exchangeId, session_id: r.sessionId, started_at: new Date(r.startedAt).toISOString(), tool: r.tool, model: r.model, user: r.user, in: r.hit!.in, snippet: r.hit!.snippet };
}
