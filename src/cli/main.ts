#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { defaultHome } from '../config.js';
import { caCommand } from './ca.js';
import { checkConfigCommand } from './check-config.js';
import { envCommand } from './env.js';
import { exportCommand } from './export.js';
import { pacCommand } from './pac.js';
import { passwdCommand } from './passwd.js';
import { purgeCommand } from './purge.js';
import { replayCommand } from './replay.js';
import { runCommand } from './run.js';
import { sessionsCommand } from './sessions.js';
import { showCommand } from './show.js';
import { statsCommand } from './stats.js';
import { tailCommand } from './tail.js';
import { trustCommand } from './trust.js';
import { doctorCommand } from './doctor.js';
import { startCommand } from './start.js';
import { mockCommand } from './mock.js';
import { policyCommand } from './policy-test.js';
import { cacheReportCommand } from './cache-report.js';
import { closestCommand, joinDashValues, notANumber } from './argv.js';

const args = joinDashValues(hideBin(process.argv), ['--der']);
const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

/** Bad arguments end in one line on stderr and exit code 2, like other Unix tools. */
const cli = yargs(args);
await cli
  .scriptName('llmtap')
  .option('home', { type: 'string', describe: 'where certs/ and llmtap.db live (env LLMTAP_HOME)', default: defaultHome(), defaultDescription: '$LLMTAP_HOME or ~/.llmtap', global: true })
  .command(startCommand)
  .command(envCommand)
  .command(runCommand)
  .command(pacCommand)
  .command(caCommand)
  .command(exportCommand)
  .command(sessionsCommand)
  .command(showCommand)
  .command(statsCommand)
  .command(tailCommand)
  .command(replayCommand)
  .command(mockCommand)
  .command(purgeCommand)
  .command(passwdCommand)
  .command(checkConfigCommand)
  .command(policyCommand)
  .command(cacheReportCommand)
  .command(trustCommand)
  .command(doctorCommand)
  .demandCommand(1, 'name a command: start, env, run, pac, trust, doctor, ca, sessions, show, replay, mock, stats, tail, export, purge, passwd, check-config, policy or cache-report')
  .strict()
  .check((argv) => {
    const problem = notANumber(argv, args);
    if (problem) throw new Error(problem);
    return true;
  }, true)
  .help()
  .version(version)
  .fail((message, error) => {
    process.stderr.write(`llmtap: ${unknownCommand(message) ?? message ?? error?.message ?? 'invalid arguments'}\n`);
    process.exit(error && !message ? 1 : 2);
  })
  .parseAsync();

/** `llmtap sesions` → `unknown command "sesions"; did you mean sessions?` (yargs only says "Unknown argument"). */
function unknownCommand(message: string | null | undefined): string | undefined {
  const typed = /^Unknown arguments?: ([^,\s]+)/.exec(message ?? '')?.[1];
  if (!typed || !args.includes(typed)) return undefined;
  const commands = (cli as unknown as { getInternalMethods(): { getCommandInstance(): { getCommands(): string[] } } }).getInternalMethods().getCommandInstance().getCommands();
  if (commands.includes(typed)) return undefined;
  const guess = closestCommand(typed, commands);
  return `unknown command "${typed}"${guess ? `; did you mean ${guess}?` : ''} (llmtap --help lists them)`;
}
