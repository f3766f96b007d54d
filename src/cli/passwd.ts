import type { Argv, CommandModule } from 'yargs';
import { hashPasswordLine, userNameProblem } from '../proxy/auth.js';
import { hiddenLines } from './hidden-input.js';
import { USAGE } from './command-table.js';

interface PasswdArgs {
  home: string;
  user?: string;
}

/**
 * Reads a password from stdin (first line; typed twice, not shown, on a terminal) and
 * prints a line for --auth-file; the password is never an argument.
 */
export const passwdCommand: CommandModule<{ home: string }, PasswdArgs> = {
  ...USAGE.passwd,
  builder: (y: Argv<{ home: string }>) => y.positional('user', { type: 'string', describe: 'the proxy user name' }) as unknown as Argv<PasswdArgs>,
  handler: async (args) => {
    // yargs' own message for a missing positional ("Not enough non-option arguments: got 0") says nothing useful.
    if (!args.user) {
      process.stderr.write('llmtap: usage: llmtap passwd USER < password-file (prints a line for --auth-file; the password is read from stdin)\n');
      process.exit(2);
    }
    const user = args.user;
    // Before the password is asked for: a name no login can use is a bad argument (exit 2).
    const problem = userNameProblem(user);
    if (problem) {
      process.stderr.write(`llmtap: ${problem}\n`);
      process.exit(2);
    }
    const password = process.stdin.isTTY ? await typedTwice(user) : await firstLineOfStdin();
    if (!password) {
      process.stderr.write('llmtap: no password on stdin\n');
      process.exit(2);
    }
    process.stdout.write(`${await hashPasswordLine(user, password)}\n`);
  },
};

async function firstLineOfStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
}

/** On a terminal: asked for twice with echo off (raw mode); two that differ end the command. */
async function typedTwice(user: string): Promise<string> {
  const lines = hiddenLines();
  process.stderr.write(`password for ${user}: `);
  const first = await lines.next();
  process.stderr.write('\nagain: ');
  const again = await lines.next();
  process.stderr.write('\n');
  lines.close();
  if (first !== again) {
    process.stderr.write('llmtap: the two passwords differ\n');
    process.exit(2);
  }
  return first;
}
