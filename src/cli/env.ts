import type { Argv, CommandModule } from 'yargs';
import { paths } from '../config.js';
import { formatAuthority } from '../proxy/route.js';
import { loadOrCreateCa, writeTrustBundle } from '../tls/ca.js';
import { listenOptions } from './options.js';

interface EnvArgs {
  home: string;
  host: string;
  port: number;
}

/** Single-quotes a value for POSIX shells. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * The environment that sends a shell's tools through llmtap and makes them trust
 * its CA: Node reads NODE_EXTRA_CA_CERTS (added to its roots); OpenSSL-based tools
 * (curl, Python requests/httpx) replace their roots with a bundle, so they get
 * system roots plus the llmtap CA.
 */
export function envLines(proxyUrl: string, caPath: string, bundlePath: string): string[] {
  const vars: Array<[string, string]> = [
    ['HTTPS_PROXY', proxyUrl], ['HTTP_PROXY', proxyUrl], ['https_proxy', proxyUrl], ['http_proxy', proxyUrl],
    ['NO_PROXY', 'localhost,127.0.0.1,::1'], ['no_proxy', 'localhost,127.0.0.1,::1'],
    ['NODE_EXTRA_CA_CERTS', caPath],
    ['SSL_CERT_FILE', bundlePath], ['REQUESTS_CA_BUNDLE', bundlePath], ['CURL_CA_BUNDLE', bundlePath],
  ];
  return vars.map(([name, value]) => `export ${name}=${shellQuote(value)}`);
}

export const envCommand: CommandModule<{ home: string }, EnvArgs> = {
  command: 'env',
  describe: 'print export lines that point tools at the proxy: eval "$(llmtap env)"',
  builder: (y: Argv<{ home: string }>) => y.options(listenOptions) as unknown as Argv<EnvArgs>,
  handler: (args) => {
    const where = paths(args.home);
    const { ca } = loadOrCreateCa(where.certs);
    writeTrustBundle(ca, where.bundle);
    const host = args.host === '0.0.0.0' || args.host === '::' ? '127.0.0.1' : args.host;
    process.stdout.write(`${envLines(`http://${formatAuthority(host, args.port)}`, ca.certPath, where.bundle).join('\n')}\n`);
  },
};
