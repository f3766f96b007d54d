import type { Argv, CommandModule } from 'yargs';
import { renderPac } from '../proxy/pac.js';
import { makeInterceptList } from '../proxy/route.js';
import { clientHost, interceptOption } from './env.js';
import { listenOptions, listenProblem } from './options.js';
import { USAGE } from './command-table.js';

interface PacArgs {
  home: string;
  host: string;
  port: number;
  intercept: string[];
  passthrough: string[];
}

export const pacCommand: CommandModule<{ home: string }, PacArgs> = {
  ...USAGE.pac,
  builder: (y: Argv<{ home: string }>) => y
    .options(listenOptions)
    .check((a) => {
      const problem = listenProblem(a);
      if (problem) throw new Error(problem);
      return true;
    })
    .option('intercept', interceptOption)
    .option('passthrough', { type: 'string', array: true, default: [] as string[], describe: 'the --passthrough patterns the proxy runs with (sent DIRECT)' }) as unknown as Argv<PacArgs>,
  handler: (args) => {
    process.stdout.write(renderPac(makeInterceptList(args.intercept, args.passthrough), clientHost(args.host), args.port));
  },
};
