#!/usr/bin/env node
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { defaultHome } from '../config.js';
import { caCommand } from './ca.js';
import { checkConfigCommand } from './check-config.js';
import { envCommand } from './env.js';
import { exportCommand } from './export.js';
import { passwdCommand } from './passwd.js';
import { purgeCommand } from './purge.js';
import { sessionsCommand } from './sessions.js';
import { showCommand } from './show.js';
import { statsCommand } from './stats.js';
import { tailCommand } from './tail.js';
import { trustCommand } from './trust.js';
import { doctorCommand } from './doctor.js';
import { startCommand } from './start.js';

/** Bad arguments end in one line on stderr and exit code 2, like other Unix tools. */
await yargs(hideBin(process.argv))
  .scriptName('llmtap')
  .option('home', { type: 'string', describe: 'where certs/ and llmtap.db live (env LLMTAP_HOME)', default: defaultHome(), defaultDescription: '$LLMTAP_HOME or ~/.llmtap', global: true })
  .command(startCommand)
  .command(envCommand)
  .command(caCommand)
  .command(exportCommand)
  .command(sessionsCommand)
  .command(showCommand)
  .command(statsCommand)
  .command(tailCommand)
  .command(purgeCommand)
  .command(passwdCommand)
  .command(checkConfigCommand)
  .command(trustCommand)
  .command(doctorCommand)
  .demandCommand(1, 'name a command: start, env, ca, sessions, show, stats, tail, export, purge, passwd, check-config, trust or doctor')
  .strict()
  .help()
  .version(false)
  .fail((message, error) => {
    process.stderr.write(`llmtap: ${message ?? error?.message ?? 'invalid arguments'}\n`);
    process.exit(error && !message ? 1 : 2);
  })
  .parseAsync();
