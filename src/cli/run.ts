import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import type { Argv, CommandModule } from 'yargs';
import { paths } from '../config.js';
import { formatAuthority, makeInterceptList } from '../proxy/route.js';
import { labelError, labelledProxyUrl } from '../proxy/run-label.js';
import { loadOrCreateCa, writeTrustBundle } from '../tls/ca.js';
import { startInBackground } from './background-proxy.js';
import { clientEnv } from './client-env.js';
import { clientHost, interceptOption } from './env.js';
import { connectGatewayOrExit, gatewayOptions, gatewayProblem, typedFlags, type GatewayArgs } from './gateway-option.js';
import { listenOptions, listenProblem } from './options.js';
import { otherCaWarning, probeProxy } from './probe.js';
import { USAGE } from './command-table.js';

interface RunArgs extends GatewayArgs {
  home: string;
  host: string;
  port: number;
  intercept: string[];
  label?: string;
  config?: string;
  '--'?: Array<string | number>;
  command?: Array<string | number>;
}

export const runCommand: CommandModule<{ home: string }, RunArgs> = {
  ...USAGE.run,
  builder: (y: Argv<{ home: string }>) => y
    .parserConfiguration({ 'populate--': true })
    .options(listenOptions)
    .check((a) => {
      const problem = listenProblem(a);
      if (problem) throw new Error(problem);
      return true;
    })
    .option('intercept', interceptOption)
    .option('label', { type: 'string', describe: 'tag this run\'s exchanges (shown by sessions, stats --by label)' })
    .option('config', { type: 'string', describe: 'config file for the proxy started in the background when none is listening' })
    .check((a) => {
      if (a.label !== undefined) {
        const error = labelError(String(a.label));
        if (error) throw new Error(error);
      }
      if (commandOf(a as RunArgs).length === 0) throw new Error('name the command to run: llmtap run -- CMD [ARGS…]');
      return true;
    })
    .options(gatewayOptions)
    .check((a) => {
      // A gateway names traffic by its proxy user and runs with its own config: --label and --config are local.
      const problem = gatewayProblem(a, typedFlags(), ['host', 'port', 'intercept', 'label', 'config']);
      if (problem) throw new Error(problem);
      return true;
    }) as unknown as Argv<RunArgs>,
  handler: async (args) => {
    const [file, ...rest] = commandOf(args);
    if (args.gateway !== undefined) {
      const connection = await connectGatewayOrExit(args.gateway, args['gateway-fingerprint'], args.home);
      const vars = clientEnv({
        proxyUrl: connection.proxyUrl, caPath: connection.ca.certPath, bundlePath: connection.ca.bundlePath,
        intercept: [], nodePreload: true, existingNodeOptions: process.env.NODE_OPTIONS,
      });
      return runChild(file!, rest, vars);
    }
    const host = clientHost(args.host);
    const where = paths(args.home);
    const probe = await probeProxy(host, args.port);
    if (probe === 'other') {
      process.stderr.write(`llmtap: ${formatAuthority(host, args.port)} is taken by something that is not llmtap; pick another --port\n`);
      process.exit(1);
    }
    if (probe === 'none') {
      try {
        const started = await startInBackground({ home: args.home, host, port: args.port, intercept: args.intercept, config: args.config });
        process.stderr.write(`llmtap: no proxy on ${formatAuthority(host, args.port)}; started one in the background (pid ${started.pid}, log ${started.log}); stop it with "kill ${started.pid}"\n`);
      } catch (err) {
        process.stderr.write(`llmtap: ${(err as Error).message}\n`);
        process.exit(1);
      }
    }
    const { ca } = loadOrCreateCa(where.certs);
    writeTrustBundle(ca, where.bundle);
    if (probe === 'llmtap') process.stderr.write(await otherCaWarning(host, args.port, ca.certPem, ca.certPath) ?? '');
    const vars = clientEnv({
      proxyUrl: labelledProxyUrl(`http://${formatAuthority(host, args.port)}`, args.label), caPath: ca.certPath, bundlePath: where.bundle,
      intercept: makeInterceptList(args.intercept).intercept, nodePreload: true, existingNodeOptions: process.env.NODE_OPTIONS,
    });
    runChild(file!, rest, vars);
  },
};

/** The command with the variables set, its signals forwarded and its exit status passed on as llmtap's own. */
function runChild(file: string, rest: string[], vars: Array<[string, string]>): void {
  const child = spawn(file, rest, { stdio: 'inherit', env: { ...process.env, ...Object.fromEntries(vars) } });
  forwardSignals(child);
  child.once('error', (err: NodeJS.ErrnoException) => {
    process.stderr.write(`llmtap: cannot run ${file}: ${err.code === 'ENOENT' ? 'command not found' : err.message}\n`);
    process.exit(err.code === 'ENOENT' ? 127 : 126);
  });
  child.once('exit', (code, signal) => {
    if (signal) {
      // Die the way the child died, so a shell sees the same status (128 + signal).
      for (const s of FORWARDED) process.removeAllListeners(s);
      process.kill(process.pid, signal);
      setTimeout(() => process.exit(128 + (constants.signals[signal] ?? 0)), 100).unref();
      return;
    }
    process.exit(code ?? 1);
  });
}

const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'];

/**
 * Signals sent to `llmtap run` go to the child, which decides how to end. Ctrl-C
 * in a terminal already reaches the child (it shares the foreground process
 * group), so SIGINT is forwarded only when stdin is not a terminal — an
 * interactive tool never sees one Ctrl-C as two.
 */
function forwardSignals(child: ReturnType<typeof spawn>): void {
  for (const signal of FORWARDED) {
    process.on(signal, () => {
      if (signal === 'SIGINT' && process.stdin.isTTY) return;
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    });
  }
}

function commandOf(args: RunArgs): string[] {
  return [...(args.command ?? []), ...(args['--'] ?? [])].map(String);
}
