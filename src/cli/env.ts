import type { Argv, CommandModule } from 'yargs';
import { paths } from '../config.js';
import { formatAuthority, makeInterceptList } from '../proxy/route.js';
import { loadOrCreateCa, writeTrustBundle } from '../tls/ca.js';
import { clientEnv } from './client-env.js';
import { connectGatewayOrExit, gatewayOptions, gatewayProblem, typedFlags, type GatewayArgs } from './gateway-option.js';
import { listenOptions, listenProblem, sameProxyFlags, shellQuote } from './options.js';
import { otherCaWarning, probeProxy } from './probe.js';
import { USAGE } from './command-table.js';

interface EnvArgs extends GatewayArgs {
  home: string;
  host: string;
  port: number;
  intercept: string[];
  node: boolean;
}


/** `export NAME='value'` lines for a POSIX shell. */
export function exportLines(vars: ReadonlyArray<[string, string]>): string[] {
  return vars.map(([name, value]) => `export ${name}=${shellQuote(value)}`);
}

/** Where clients reach a proxy listening on `host` (any-address listeners are reached on loopback). */
export function clientHost(host: string): string {
  return host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
}

/** Shared by `env` and `run`: the intercept patterns the proxy was started with, so NO_PROXY spares them. */
export const interceptOption = {
  type: 'string', array: true, default: [] as string[],
  describe: 'the --intercept patterns the proxy runs with (NO_PROXY then leaves those hosts on the proxy)',
} as const;

export const envCommand: CommandModule<{ home: string }, EnvArgs> = {
  ...USAGE.env,
  builder: (y: Argv<{ home: string }>) => y
    .options(listenOptions)
    .check((a) => {
      const problem = listenProblem(a);
      if (problem) throw new Error(problem);
      return true;
    })
    .option('intercept', interceptOption)
    .option('node', { type: 'boolean', default: false, describe: 'also preload a proxy dispatcher into Node programs (NODE_OPTIONS): Node 20 fetch ignores HTTPS_PROXY' })
    .options(gatewayOptions)
    .check((a) => {
      const problem = gatewayProblem(a, typedFlags(), ['host', 'port', 'intercept']);
      if (problem) throw new Error(problem);
      return true;
    }) as unknown as Argv<EnvArgs>,
  handler: async (args) => {
    if (args.gateway !== undefined) {
      const connection = await connectGatewayOrExit(args.gateway, args['gateway-fingerprint'], args.home);
      // The gateway cannot reach this machine's loopback: local services always stay direct.
      const vars = clientEnv({
        proxyUrl: connection.proxyUrl, caPath: connection.ca.certPath, bundlePath: connection.ca.bundlePath,
        intercept: [], nodePreload: args.node, existingNodeOptions: process.env.NODE_OPTIONS,
      });
      process.stdout.write(`${exportLines(vars).join('\n')}\n`);
      return;
    }
    const where = paths(args.home);
    const { ca } = loadOrCreateCa(where.certs);
    writeTrustBundle(ca, where.bundle);
    const host = clientHost(args.host);
    const vars = clientEnv({
      proxyUrl: `http://${formatAuthority(host, args.port)}`, caPath: ca.certPath, bundlePath: where.bundle,
      intercept: makeInterceptList(args.intercept).intercept, nodePreload: args.node, existingNodeOptions: process.env.NODE_OPTIONS,
    });
    process.stdout.write(`${exportLines(vars).join('\n')}\n`);
    // The lines are right either way; the warning is for a shell about to send traffic nowhere.
    const probe = await probeProxy(host, args.port);
    if (probe !== 'llmtap') {
      const flags = sameProxyFlags({ home: args.home, host: args.host, port: args.port });
      process.stderr.write(`llmtap: warning: ${probe === 'none' ? 'no proxy is listening' : 'something other than llmtap is listening'} on ${formatAuthority(host, args.port)}; start one with "llmtap start${flags}" (or use "llmtap run${flags} -- CMD")\n`);
    } else process.stderr.write(await otherCaWarning(host, args.port, ca.certPem, ca.certPath) ?? '');
  },
};
