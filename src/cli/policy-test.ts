import type { Argv, CommandModule } from 'yargs';
import { ConfigError } from '../config-error.js';
import { loadPolicyFile } from '../policy/load.js';
import { simulatePolicy, type PolicyTestReport } from '../policy/simulate.js';
import { openReader, printJson } from './open-reader.js';
import { parseTimeArg, tokens, usd } from './render/format.js';
import { renderTable, terminalWidth, useColor } from './render/table.js';

interface PolicyTestArgs {
  home: string;
  file: string;
  since?: string;
  json: boolean;
}

const testCommand: CommandModule<{ home: string }, PolicyTestArgs> = {
  command: 'test <file>',
  describe: 'replay the archive through a policy file: what it would have blocked, redacted, limited, cached and saved (nothing is sent)',
  builder: (y: Argv<{ home: string }>) => y
    .positional('file', { type: 'string', demandOption: true, describe: 'policy file (YAML or JSON)' })
    .option('since', { type: 'string', describe: 'only exchanges since a duration ago (24h, 7d) or a date' })
    .option('json', { type: 'boolean', default: false, describe: 'print JSON instead of a table' })
    .check((a) => {
      if (a.since !== undefined) parseTimeArg('since', a.since);
      return true;
    }) as unknown as Argv<PolicyTestArgs>,
  handler: (args) => {
    let policy;
    try {
      policy = loadPolicyFile(args.file);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      process.stderr.write(`llmtap: ${err.message}\n`);
      process.exit(1);
    }
    const reader = openReader(args.home);
    try {
      const since = args.since ? parseTimeArg('since', args.since) : undefined;
      const report = simulatePolicy(policy, reader.exchangesWithBodies(since), since);
      if (args.json) return printJson(policyTestJson(report));
      process.stdout.write(renderPolicyTest(report, process.stdout));
    } finally {
      reader.close();
    }
  },
};

export const policyCommand: CommandModule<{ home: string }, { home: string }> = {
  command: 'policy <command>',
  describe: 'policy tools: test',
  builder: (y: Argv<{ home: string }>) => y.command(testCommand).demandCommand(1, 'name a policy command: test') as unknown as Argv<{ home: string }>,
  handler: () => {},
};

export function renderPolicyTest(report: PolicyTestReport, out?: NodeJS.WriteStream): string {
  if (report.exchanges === 0) return 'no exchanges in this range\n';
  const t = report.totals;
  const head = `${report.exchanges} exchanges replayed: ${t.blocked} blocked (${t.rateLimited} rate-limited), ${t.redacted} redacted, ${t.cached} answered from the cache; saved ${tokens(t.savedTokens)} tokens, ${usd(t.savedUsd)}\n`;
  if (report.rules.length === 0) return `${head}no rule would have acted\n`;
  return head + renderTable(
    [{ header: 'RULE', flexible: true }, { header: 'KIND' }, { header: 'MODE' }, { header: 'ACTION' }, { header: 'REQS', align: 'right' }, { header: 'TOKENS SAVED', align: 'right' }, { header: 'USD SAVED', align: 'right' }],
    report.rules.map((r) => [r.rule, r.kind, r.mode, r.action, String(r.requests), tokens(r.savedTokens), usd(r.savedUsd)]),
    { width: out ? terminalWidth(out) : undefined, color: out ? useColor(out) : false },
  ) + 'monitor rules show what they would have done; totals count enforced rules only; USD is the cost stored with each exchange\n';
}

function policyTestJson(r: PolicyTestReport): Record<string, unknown> {
  return {
    exchanges: r.exchanges, since: r.since === null ? null : new Date(r.since).toISOString(),
    totals: { blocked: r.totals.blocked, rate_limited: r.totals.rateLimited, redacted: r.totals.redacted, cached: r.totals.cached, saved_tokens: r.totals.savedTokens, saved_usd: r.totals.savedUsd },
    rules: r.rules.map((e) => ({ rule: e.rule, kind: e.kind, mode: e.mode, action: e.action, requests: e.requests, saved_tokens: e.savedTokens, saved_usd: e.savedUsd })),
  };
}
