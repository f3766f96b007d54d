import type { Argv, CommandModule } from 'yargs';
import { cacheReport, type CacheReport } from '../cache/cache-report.js';
import { openReader, printJson } from './open-reader.js';
import { counted } from './progress.js';
import { counted as inWords, localTime, parseTimeArg, terminalSafe, tokens, usd } from './render/format.js';
import { renderTable, terminalWidth, useColor } from './render/table.js';
import { USAGE } from './command-table.js';

interface CacheReportArgs {
  home: string;
  since?: string;
  limit: number;
  json: boolean;
}

export const cacheReportCommand: CommandModule<{ home: string }, CacheReportArgs> = {
  ...USAGE['cache-report'],
  builder: (y: Argv<{ home: string }>) => y
    .option('since', { type: 'string', describe: 'only exchanges since a duration ago (24h, 7d) or a date' })
    .option('limit', { type: 'number', default: 20, describe: 'request shapes to list' })
    .option('json', { type: 'boolean', default: false, describe: 'print JSON instead of a table' })
    .check((a) => {
      if (a.since !== undefined) parseTimeArg('since', a.since);
      if (!Number.isInteger(a.limit) || a.limit < 1) throw new Error('--limit must be a positive integer');
      return true;
    }) as unknown as Argv<CacheReportArgs>,
  handler: (args) => {
    const reader = openReader(args.home);
    try {
      const since = args.since ? parseTimeArg('since', args.since) : undefined;
      const report = cacheReport(counted(reader.exchangesWithBodies(since), 'reading exchanges', () => reader.countExchanges(since)), since);
      if (args.json) return printJson(cacheReportJson(report, args.limit));
      process.stdout.write(terminalSafe(renderCacheReport(report, args.limit, process.stdout)));
    } finally {
      reader.close();
    }
  },
};

export function renderCacheReport(report: CacheReport, limit: number, out?: NodeJS.WriteStream): string {
  const t = report.totals;
  const unseen = report.shapes.filter((s) => s.credentialUnseen).length;
  const head = `${inWords(report.exchanges, 'exchange')}, ${inWords(report.shapes.length, 'request shape')} seen more than once; a cache would have answered ${inWords(t.repeats, 'request')}${t.served > 0 ? ` (llmtap's response cache answered ${t.served} of them)` : ''}, saving ${tokens(t.savedTokens)} tokens, ${usd(t.savedUsd)}\n`
    + (unseen > 0 ? `${unseen} of them (KEY marked *) sent a credential the archive does not keep: requests with different keys may be grouped there\n` : '')
    + (report.unkeyed > 0 ? `${inWords(report.unkeyed, 'request')} not compared: ${report.unkeyed === 1 ? 'its body is' : 'their body is'} not whole in the archive\n` : '')
    + (report.redacted > 0 ? `${inWords(report.redacted, 'request')} not compared: the archive redacted a key-shaped string in ${report.redacted === 1 ? 'its' : 'their'} body, which the cache keyed as sent (a cache rule records the real key)\n` : '');
  if (report.shapes.length === 0) return head;
  return head + renderTable(
    [{ header: 'KEY' }, { header: 'MODEL' }, { header: 'PATH', flexible: true }, { header: 'WHO' }, { header: 'REQS', align: 'right' }, { header: 'REPEATS', align: 'right' }, { header: 'TOKENS', align: 'right' }, { header: 'USD', align: 'right' }, { header: 'LAST' }],
    report.shapes.slice(0, limit).map((s) => [s.credentialUnseen ? `${s.key}*` : s.key, s.model ?? '-', s.path, s.who, String(s.requests), String(s.repeats), tokens(s.savedTokens), usd(s.savedUsd), localTime(s.lastAt)]),
    { width: out ? terminalWidth(out) : undefined, color: out ? useColor(out) : false },
  );
}

function cacheReportJson(r: CacheReport, limit: number): Record<string, unknown> {
  return {
    exchanges: r.exchanges, not_compared: r.unkeyed, not_compared_redacted: r.redacted, since: r.since === null ? null : new Date(r.since).toISOString(),
    totals: { repeats: r.totals.repeats, served_by_cache: r.totals.served, saved_tokens: r.totals.savedTokens, saved_usd: r.totals.savedUsd },
    shapes: r.shapes.slice(0, limit).map((s) => ({
      key: s.key, host: s.host, path: s.path, model: s.model, who: s.who, credential_unseen: s.credentialUnseen, requests: s.requests, repeats: s.repeats, served_by_cache: s.served,
      saved_tokens: s.savedTokens, saved_usd: s.savedUsd, first_at: new Date(s.firstAt).toISOString(), last_at: new Date(s.lastAt).toISOString(),
    })),
  };
}
