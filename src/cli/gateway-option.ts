import { join } from 'node:path';
import { adoptGatewayCa, fetchGatewayCa, keptGatewayCa, normalizeFingerprint, type AdoptedCa } from '../gateway-client/gateway-ca.js';
import { basicAuthorization, gatewayAuthority, gatewayDirName, gatewayProxyUrl, knownPassword, parseGateway, type Gateway } from '../gateway-client/gateway-url.js';
import { askHidden } from './hidden-input.js';

/**
 * `--gateway`: `env`, `run` and `doctor` point at a team's llmtap gateway instead of a
 * proxy on this machine. LLMTAP_GATEWAY is its default, so a developer's shell profile
 * can name the gateway once.
 */
export const gatewayOptions = {
  gateway: {
    type: 'string',
    describe: "a team's llmtap gateway instead of a proxy on this machine: http://USER@HOST:PORT (its CA is fetched and kept under --home; the password is asked, or read from LLMTAP_GATEWAY_PASSWORD)",
    default: process.env.LLMTAP_GATEWAY || undefined,
    defaultDescription: '$LLMTAP_GATEWAY',
  },
  'gateway-fingerprint': {
    type: 'string',
    describe: "the SHA-256 fingerprint of the gateway's CA, as its team publishes it: checked on first use, and the way to accept a CA the team rotated",
  },
} as const;

/** The flags typed before a `--` (after it, they are a command's own, as in `llmtap run -- curl --port`). */
export function typedFlags(argv: readonly string[] = process.argv.slice(2)): string[] {
  const end = argv.indexOf('--');
  return end === -1 ? [...argv] : argv.slice(0, end);
}

export interface GatewayArgs {
  gateway?: string;
  'gateway-fingerprint'?: string;
}

/**
 * What is wrong with `--gateway` and `--gateway-fingerprint` as given, in one line: a URL
 * or fingerprint that cannot be read, or a flag beside them that only means something for
 * a proxy on this machine (`localOnly`; refused rather than ignored).
 */
export function gatewayProblem(args: GatewayArgs, typed: readonly string[], localOnly: readonly string[]): string | undefined {
  if (args['gateway-fingerprint'] !== undefined && normalizeFingerprint(args['gateway-fingerprint']) === undefined) {
    return `--gateway-fingerprint: not a SHA-256 fingerprint (64 hex digits, colons allowed)`;
  }
  if (args.gateway === undefined) return args['gateway-fingerprint'] !== undefined ? '--gateway-fingerprint: only with --gateway' : undefined;
  const parsed = parseGateway(args.gateway);
  if ('error' in parsed) return parsed.error;
  const given = (flag: string): boolean => typed.some((arg) => arg === `--${flag}` || arg.startsWith(`--${flag}=`));
  const clash = localOnly.find(given);
  if (!clash) return undefined;
  return given('gateway')
    ? `--${clash} is for a proxy on this machine; with --gateway the gateway's own settings apply`
    : `--${clash} is for a proxy on this machine, and LLMTAP_GATEWAY names a gateway: unset it (LLMTAP_GATEWAY= llmtap …) to use a local proxy`;
}

export interface GatewayConnection {
  gateway: Gateway;
  /** For tools: the proxy URL with the login in it. */
  proxyUrl: string;
  /** For the gateway's own pages (status, CA), when it has users. */
  authorization?: string;
  ca: AdoptedCa;
  /** Why the gateway could not be asked, when the CA kept from before is used instead. */
  offline?: string;
}

/**
 * The gateway named, logged in to and its CA fetched and kept: what `env`, `run` and
 * `doctor` point tools at. The password comes from what the developer already gave
 * (knownPassword) or is asked on the terminal; it is never written anywhere but the
 * proxy variables printed or set. Refusals are one line.
 */
export async function connectGateway(text: string, pin: string | undefined, home: string): Promise<GatewayConnection | { error: string; refused?: true }> {
  const gateway = parseGateway(text);
  if ('error' in gateway) return gateway;
  let password = knownPassword(gateway, process.env);
  if (gateway.user !== undefined && password === undefined) {
    if (!process.stdin.isTTY) return { error: `no password for ${gateway.user} at ${gatewayAuthority(gateway)}: set LLMTAP_GATEWAY_PASSWORD, or run this in a terminal to be asked` };
    password = await askHidden(`password for ${gateway.user} at ${gatewayAuthority(gateway)}: `);
  }
  const authorization = basicAuthorization(gateway.user, password);
  const dir = gatewayDir(home, gateway);
  const fetched = await fetchGatewayCa(gateway, authorization);
  const login = { gateway, proxyUrl: gatewayProxyUrl(gateway, password), ...(authorization ? { authorization } : {}) };
  if ('pem' in fetched) {
    const ca = adoptGatewayCa(dir, fetched.pem, pin);
    return 'error' in ca ? ca : { ...login, ca };
  }
  // Offline: the CA kept from before still describes this gateway; the tools will say if it is down.
  const kept = fetched.unreachable ? keptGatewayCa(dir) : undefined;
  if (kept) return { ...login, ca: kept, offline: fetched.error };
  // `doctor` tells a refused login apart from a gateway it cannot ask.
  return fetched.refused ? { error: fetched.error, refused: true } : { error: fetched.error };
}

/** Where under --home a gateway's CA is kept. */
export function gatewayDir(home: string, gateway: Gateway): string {
  return join(home, 'gateways', gatewayDirName(gateway));
}

/** The gateway as fixes and hints name it again: its URL without any password written into it. */
export function gatewayShown(gateway: Gateway): string {
  return gatewayProxyUrl(gateway, undefined);
}

/** What the developer should know about the CA: trusted on first use, a rotation accepted, the one kept used offline. */
export function caNotes(connection: GatewayConnection, pin: string | undefined): string[] {
  const { ca } = connection;
  const notes: string[] = [];
  if (connection.offline) notes.push(`${connection.offline}; using its CA kept from before (${ca.fingerprint})`);
  if (ca.firstUse) {
    notes.push(pin === undefined
      ? `trusting the gateway's CA on first use, SHA-256 ${ca.fingerprint}: compare it with the fingerprint the gateway's team publishes (--gateway-fingerprint checks it for you)`
      : `the gateway's CA matches --gateway-fingerprint; kept in ${ca.certPath}`);
  }
  if (ca.replaced) notes.push(`the gateway's new CA (confirmed by --gateway-fingerprint) replaces the one kept before`);
  return notes;
}

/** connectGateway for the commands that cannot go on without it: notes and the refusal on stderr. */
export async function connectGatewayOrExit(text: string, pin: string | undefined, home: string): Promise<GatewayConnection> {
  const connection = await connectGateway(text, pin, home);
  if ('error' in connection) {
    process.stderr.write(`llmtap: ${connection.error}\n`);
    process.exit(1);
  }
  for (const note of caNotes(connection, pin)) process.stderr.write(`llmtap: ${note}\n`);
  return connection;
}
