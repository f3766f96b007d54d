import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { readFileSync } from 'node:fs';
import { ConfigError } from '../config-error.js';
import { loadConfigFile } from '../config-file.js';
import { summarize } from '../policy/compile.js';
import { loadPolicyFile } from '../policy/load.js';

interface CheckArgs {
  file: string;
  json: boolean;
}

/**
 * Validates a policy file (YAML or JSON with `rules`) or a config file (JSON, and the
 * policy file it names) without starting anything: exit 0 with a one-line summary,
 * exit 1 with the message naming file, line, key and problem.
 */
export function checkConfig(file: string): string {
  if (/\.(ya?ml)$/i.test(file) || looksLikePolicy(file)) return `${file}: ok, policy with ${summarize(loadPolicyFile(file))}`;
  const config = loadConfigFile(file);
  const keys = Object.keys(config).length;
  if (!config.policyFile) return `${file}: ok, config with ${keys} settings`;
  return `${file}: ok, config with ${keys} settings; ${config.policyFile}: policy with ${summarize(loadPolicyFile(config.policyFile))}`;
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
  command: 'check-config <file>',
  describe: 'validate a policy or config file without starting (exit 0 ok, 1 with the problem)',
  builder: (y: Argv<{ home: string }>) => y
    .positional('file', { type: 'string', demandOption: true, describe: 'policy (YAML/JSON) or config (JSON) file' })
    .option('json', { type: 'boolean', default: false, describe: 'print {"ok", "summary" or "error"} as JSON (exit codes unchanged)' }) as unknown as Argv<CheckArgs>,
  handler: (args: ArgumentsCamelCase<CheckArgs>) => {
    try {
      const summary = checkConfig(args.file);
      process.stdout.write(args.json ? `${JSON.stringify({ ok: true, file: args.file, summary })}\n` : `${summary}\n`);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      if (args.json) process.stdout.write(`${JSON.stringify({ ok: false, file: args.file, error: err.message })}\n`);
      else process.stderr.write(`llmtap: ${err.message}\n`);
      process.exit(1);
    }
  },
};
