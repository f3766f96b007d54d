import type { Argv, CommandModule } from 'yargs';
import { ConfigError } from '../config-error.js';
import { loadPolicyFile, NO_SECRETS } from '../policy/load.js';
import { replayFrom, simulatePolicy, type PolicyTestReport } from '../policy/simulate.js';
import { recordedRequests } from '../websocket/reduce.js';
import { openReader, pricesFlag, printJson } from './open-reader.js';
import { pricesOption } from './options.js';
import { counted } from './progress.js';
import { parseTimeArg, terminalSafe } from './render/format.js';
import { policyTestJson, renderPolicyTest } from './render/policy-test-text.js';
import { USAGE } from './command-table.js';

interface PolicyTestArgs {
  home: string;
  file: string;
  since?: string;
  json: boolean;
  prices?: string;
}

const testCommand: CommandModule<{ home: string }, PolicyTestArgs> = {
  command: 'test <file>',
  describe: 'replay the archive through a policy file: what it would have blocked, redacted, clamped, rerouted, cached and saved (nothing is sent)',
  builder: (y: Argv<{ home: string }>) => y
    .positional('file', { type: 'string', demandOption: true, describe: 'policy file (YAML or JSON)' })
    .option('since', { type: 'string', describe: 'only exchanges since a duration ago (24h, 7d) or a date; budgets start with the spend of their period before it' })
    .option('json', { type: 'boolean', default: false, describe: 'print JSON instead of a table' })
    .options(pricesOption)
    .check((a) => {
      if (a.since !== undefined) parseTimeArg('since', a.since);
      return true;
    }) as unknown as Argv<PolicyTestArgs>,
  handler: async (args) => {
    let policy;
    try {
      policy = loadPolicyFile(args.file, NO_SECRETS);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      process.stderr.write(`llmtap: ${err.message}\n`);
      process.exit(1);
    }
    const overrides = pricesFlag(args.prices);
    // Prices routed requests and Codex sessions' responses; the price data (~200 ms) loads at the first price asked for.
    const { priceExchange: price } = await import('../cost/price-exchange.js');
    const reader = openReader(args.home);
    let report: PolicyTestReport;
    try {
      const since = args.since ? parseTimeArg('since', args.since) : undefined;
      const from = replayFrom(policy, since);
      report = simulatePolicy(policy, counted(reader.exchangesWithBodies(from), 'replaying exchanges', () => reader.countExchanges(from)), {
        since, price: (input) => price(input, overrides),
        // A Codex session is replayed request by request, from its message log.
        requestsOf: (row) => recordedRequests(reader.wsMessages(row.id)),
        // A Gemini Live session's messages, read by the redact rules that block.
        messagesOf: (row) => reader.wsMessages(row.id),
      });
    } finally {
      reader.close();
    }
    if (args.json) return printJson(policyTestJson(report));
    process.stdout.write(terminalSafe(renderPolicyTest(report, process.stdout)));
  },
};

/** `subcommands`: read by main.ts to name a missing argument from the subcommand's own usage. */
export const policyCommand: CommandModule<{ home: string }, { home: string }> & { subcommands: readonly CommandModule<{ home: string }, any>[] } = {
  subcommands: [testCommand],
  ...USAGE.policy,
  builder: (y: Argv<{ home: string }>) => y.command(testCommand).demandCommand(1, 'name a policy command: test') as unknown as Argv<{ home: string }>,
  handler: () => {},
};
