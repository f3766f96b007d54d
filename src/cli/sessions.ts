import type { Argv, CommandModule } from 'yargs';
import type { SessionSummary } from '../archive/store.js';
import { GENAI_PRICES_VERSION } from '../cost/prices-version.js';
import { openReader, printJson } from './open-reader.js';
import { duration, localTime, parseTimeArg, terminalSafe, tokens, usd } from './render/format.js';
import { dim, renderTable, terminalWidth, useColor } from './render/table.js';
import { quotaText } from './render/quota.js';
import { usdFigure } from '../archive/stats-json.js';
import { USAGE } from './command-table.js';
import { waitForEstimates } from './estimate-wait.js';
import { HOLD_MS } from './tail-hold.js';

interface SessionsArgs {
  home: string;
  since?: string;
  tool?: string;
  user?: string;
  model?: string;
  label?: string;
  limit: number;
  json: boolean;
}

export const sessionsCommand: CommandModule<{ home: string }, SessionsArgs> = {
  ...USAGE.sessions,
  builder: (y: Argv<{ home: string }>) => y
    .option('since', { type: 'string', describe: 'only sessions active since a duration ago (24h, 7d) or a date' })
    .option('tool', { type: 'string', describe: 'only sessions of this tool (claude-code, codex, openai-sdk, …)' })
    .option('user', { type: 'string', describe: 'only sessions of this proxy user (--auth)' })
    .option('model', { type: 'string', describe: 'only sessions that used this model' })
    .option('label', { type: 'string', describe: 'only sessions of this run label (llmtap run --label)' })
    .option('limit', { type: 'number', default: 20, describe: 'at most this many sessions' })
    .option('json', { type: 'boolean', default: false, describe: 'print JSON instead of a table' })
    .check((a) => {
      if (a.since !== undefined) parseTimeArg('since', a.since);
      if (!Number.isInteger(a.limit) || a.limit < 1) throw new Error('--limit must be a positive integer');
      return true;
    }) as unknown as Argv<SessionsArgs>,
  handler: async (args) => {
    const reader = openReader(args.home);
    try {
      const query = { since: args.since ? parseTimeArg('since', args.since) : undefined, tool: args.tool, user: args.user, model: args.model, label: args.label, limit: args.limit };
      let sessions = reader.sessions(query);
      // An answer that reported no usage is committed a moment before the writer's estimate
      // of it: listed then, its session would show 0 tokens for good. Only sessions that
      // ended within the hold can have such a row; wait for it (bounded), then read again.
      const recent = sessions.filter((s) => s.endedAt + HOLD_MS > Date.now()).map((s) => s.id);
      if (recent.length > 0 && (await waitForEstimates(() => reader.awaitingEstimates(recent)))) sessions = reader.sessions(query);
      if (args.json) return printJson(sessions.map(sessionJson));
      if (sessions.length === 0) {
        const given = (['since', 'tool', 'user', 'model', 'label'] as const).filter((f) => args[f] !== undefined);
        process.stdout.write(given.length > 0 ? `no sessions match ${given.map((f) => `--${f}`).join(' ')}\n` : 'no sessions recorded yet\n');
        return;
      }
      const color = useColor(process.stdout);
      // A LABEL column only when some listed session came from `llmtap run --label`.
      const labelled = sessions.some((s) => s.clientLabel !== null);
      process.stdout.write(renderTable(
        [
          // The id whole (a cut one cannot be passed to `show`); tool, models and quota give way.
          { header: 'SESSION' }, { header: 'STARTED' }, { header: 'DURATION', align: 'right' }, { header: 'TOOL', flexible: true },
          ...(labelled ? [{ header: 'LABEL' }] : []),
          { header: 'MODELS', flexible: true }, { header: 'THREADS', align: 'right' }, { header: 'TURNS', align: 'right' },
          { header: 'IN', align: 'right' }, { header: 'OUT', align: 'right' }, { header: 'CACHED', align: 'right' },
          { header: 'COST', align: 'right' }, { header: 'QUOTA', flexible: true },
        ],
        sessions.map((s) => [
          s.id, localTime(s.startedAt), duration(s.endedAt - s.startedAt), s.tool ?? '-', ...(labelled ? [s.clientLabel ?? '-'] : []), s.models.join(',') || '-', String(s.threads),
          turnsText(s), tokens(s.inputTokens), tokens(s.outputTokens), tokens(s.cachedInputTokens),
          usd(s.costUsd, { apiEquivalent: s.apiEquivalent, partial: s.unpriced > 0 && s.costUsd !== null }), quotaText(s.quota),
        ]),
        { width: terminalWidth(process.stdout), color },
      ));
      const legend = `TURNS (+N): N retries of a turn, not counted; ~ API-equivalent price of subscription traffic; + some exchanges have no known price; QUOTA: share of a usage window used; prices: ${GENAI_PRICES_VERSION}`;
      process.stdout.write(`${terminalSafe(color ? dim(legend) : legend)}\n`);
    } finally {
      reader.close();
    }
  },
};

export function sessionJson(s: SessionSummary): Record<string, unknown> {
  return {
    id: s.id, started_at: new Date(s.startedAt).toISOString(), ended_at: new Date(s.endedAt).toISOString(), duration_ms: Math.round(s.endedAt - s.startedAt),
    tool: s.tool, client: { address: s.clientAddress, user: s.clientUser }, label: s.clientLabel, models: s.models, threads: s.threads, turns: s.exchanges - s.retries, retries: s.retries, errors: s.errors,
    tokens: { input: s.inputTokens, output: s.outputTokens, cached_input: s.cachedInputTokens },
    cost_usd: usdFigure(s.costUsd), unpriced_exchanges: s.unpriced, api_equivalent: s.apiEquivalent, quota_burn_percent: s.quota,
  };
}

/** A retried request is one turn, as `show` counts it; its extra attempts follow in brackets. */
function turnsText(s: SessionSummary): string {
  const turns = String(s.exchanges - s.retries);
  return s.retries > 0 ? `${turns} (+${s.retries})` : turns;
}
