import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { readFileSync } from 'node:fs';
import { ConfigError } from '../config-error.js';
import { configKeyWhere, loadConfigFile } from '../config-file.js';
import { summarize, type CompiledPolicy } from '../policy/compile.js';
import { retentionWarnings } from '../policy/budget-retention.js';
import { loadPolicyFile } from '../policy/load.js';
import { uiAdminWarnings } from '../ui/server/admin-warnings.js';
import { USAGE } from './command-table.js';

interface CheckArgs {
  file: string;
  json: boolean;
}

/** What check-config found in a file that loads: the one-line summary, and warnings that do not stop it loading. */
export interface CheckResult {
  summary: string;
  /** Things that load but cannot work as written (a budget rule no request reaches), each naming the file. */
  warnings: string[];
}

/**
 * Validates a policy file (YAML or JSON with `rules`) or a config file (JSON, and the
 * policy file it names) without starting anything: exit 0 with a one-line summary (and
 * any warnings: the proxy starts with such a file, so they do not fail the check),
 * exit 1 with the message naming file, line, key and problem.
 */
export function checkConfig(file: string): CheckResult {
  if (/\.(ya?ml)$/i.test(file) || looksLikePolicy(file)) {
    const policy = loadPolicyFile(file);
    return { summary: `${file}: ok, policy with ${summarize(policy)}`, warnings: policyWarnings(policy) };
  }
  const config = loadConfigFile(file);
  // authFile sets two (the users and the file they came from): one setting.
  const keys = Object.keys(config).filter((key) => key !== 'usersFile').length;
  const admins = uiAdminWarnings(config.uiAdmins, config.auth).map(({ name, line }) => `${configKeyWhere(file, 'uiAdmins', name)}: ${line}`);
  if (!config.policyFile) return { summary: `${file}: ok, config with ${keys} settings`, warnings: admins };
  const policy = loadPolicyFile(config.policyFile);
  return { summary: `${file}: ok, config with ${keys} settings; ${config.policyFile}: policy with ${summarize(policy)}`,
    warnings: [...admins, ...policyWarnings(policy), ...retentionWarnings(policy.budget, config.retainDays).map((line) => `${configKeyWhere(file, 'retainDays')}: ${line}`)] };
}

/** The policy's warnings, each already `file:line: key: why`, in the file's order. */
function policyWarnings(policy: CompiledPolicy): string[] {
  return (policy.warnings ?? []).map((w) => w.text);
}

/** A JSON file whose top level has `rules` or `teams` is a policy; anything else is read as a config file. */
function looksLikePolicy(file: string): boolean {
  try {
    const data = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    return typeof data === 'object' && data !== null && ('rules' in data || 'teams' in data);
  } catch {
    return false; // unreadable or not JSON: the config loader says why, with the line
  }
}

export const checkConfigCommand: CommandModule<{ home: string }, CheckArgs> = {
  ...USAGE['check-config'],
  builder: (y: Argv<{ home: string }>) => y
    .positional('file', { type: 'string', demandOption: true, describe: 'policy (YAML/JSON) or config (JSON) file' })
    .option('json', { type: 'boolean', default: false, describe: 'print {"ok", "summary" and "warnings", or "error"} as JSON (exit codes unchanged)' }) as unknown as Argv<CheckArgs>,
  handler: (args: ArgumentsCamelCase<CheckArgs>) => {
    try {
      const { summary, warnings } = checkConfig(args.file);
      if (args.json) return void process.stdout.write(`${JSON.stringify({ ok: true, file: args.file, summary, warnings })}\n`);
      process.stdout.write(`${summary}\n`);
      for (const warning of warnings) process.stderr.write(`llmtap: warning: ${warning}\n`);
      if (warnings.length > 0) process.stderr.write(`llmtap: ${warnings.length} warning${warnings.length === 1 ? '' : 's'}; the file loads as it is (warnings do not fail check-config: exit 0)\n`);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      if (args.json) process.stdout.write(`${JSON.stringify({ ok: false, file: args.file, error: err.message })}\n`);
      else process.stderr.write(`llmtap: ${err.message}\n`);
      process.exit(1);
    }
  },
};
