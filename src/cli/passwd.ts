import type { Argv, CommandModule } from 'yargs';
import { hashPasswordLine } from '../proxy/auth.js';

interface PasswdArgs {
  home: string;
  user?: string;
}

/** Reads a password from stdin (first line) and prints a line for --auth-file; the password is never an argument. */
export const passwdCommand: CommandModule<{ home: string }, PasswdArgs> = {
  command: 'passwd [user]',
  describe: 'print an --auth-file line for USER; the password is read from stdin',
  builder: (y: Argv<{ home: string }>) => y.positional('user', { type: 'string', describe: 'the proxy user name' }) as unknown as Argv<PasswdArgs>,
  handler: async (args) => {
    // yargs' own message for a missing positional ("Not enough non-option arguments: got 0") says nothing useful.
    if (!args.user) {
      process.stderr.write('llmtap: usage: llmtap passwd USER < password-file (prints a line for --auth-file; the password is read from stdin)\n');
      process.exit(2);
    }
    const user = args.user;
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    const password = Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
    if (!password) {
      process.stderr.write('llmtap: no password on stdin\n');
      process.exit(2);
    }
    process.stdout.write(`${await hashPasswordLine(user, password)}\n`);
  },
};
