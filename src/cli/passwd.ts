import type { Argv, CommandModule } from 'yargs';
import { hashPasswordLine } from '../proxy/auth.js';

interface PasswdArgs {
  home: string;
  user: string;
}

/** Reads a password from stdin (first line) and prints a line for --auth-file; the password is never an argument. */
export const passwdCommand: CommandModule<{ home: string }, PasswdArgs> = {
  command: 'passwd <user>',
  describe: 'print an --auth-file line for USER; the password is read from stdin',
  builder: (y: Argv<{ home: string }>) => y.positional('user', { type: 'string', demandOption: true }) as unknown as Argv<PasswdArgs>,
  handler: async (args) => {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    const password = Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
    if (!password) {
      process.stderr.write('llmtap: no password on stdin\n');
      process.exit(2);
    }
    process.stdout.write(`${await hashPasswordLine(args.user, password)}\n`);
  },
};
