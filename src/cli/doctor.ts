import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { defaultHome, paths } from '../config.js';
import { parseGateway, type Gateway } from '../gateway-client/gateway-url.js';
import { archiveCheck, caKindCheck, caFilesCheck, exitCodeOf, nodeFetchCheck, proxyVarsCheck, renderChecks, skewCheck, systemStoreCheck, toolTrustCheck, untrustedClientsCheck, type CaSource, type CheckResult, type ExpectedProxy } from '../doctor/checks.js';
import { fetchStatus, roundTrip } from '../doctor/probe.js';
import { formatAuthority, makeInterceptList } from '../proxy/route.js';
import { CA_CERT_FILE, CA_KEY_FILE } from '../tls/ca.js';
import { readConstraintBases } from '../tls/name-constraints.js';
import { listenOptions, listenProblem, sameProxyFlags, shellQuote } from './options.js';
import { preloadFlag } from './client-env.js';
import { connectGateway, gatewayOptions, gatewayProblem, gatewayShown, typedFlags, type GatewayArgs } from './gateway-option.js';
import { USAGE } from './command-table.js';

interface DoctorArgs extends GatewayArgs {
  home: string;
  host: string;
  port: number;
  json: boolean;
  intercept: string[];
}

const SYSTEM_BUNDLES = ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt', '/etc/ssl/cert.pem'];

const readOrUndefined = (file: string): string | undefined => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
};
const fromFile = (label: string, file: string): CaSource => ({ label, contents: readOrUndefined(file) });

/** The bundle httpx would use: SSL_CERT_FILE, else its own default (undefined when python3 has no httpx). */
function httpxSource(env: NodeJS.ProcessEnv): CaSource | undefined {
  const probe = spawnSync('python3', ['-c', 'import httpx'], { env, timeout: 5000 });
  if (probe.error || probe.status !== 0) return undefined;
  if (env.SSL_CERT_FILE) return fromFile(`SSL_CERT_FILE=${env.SSL_CERT_FILE}`, env.SSL_CERT_FILE);
  return { missing: 'SSL_CERT_FILE is not set (httpx, under the OpenAI and Anthropic Python SDKs, reads no other variable)' };
}

/** The bundle Python's requests would use: REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE, else certifi's. */
function pythonSource(env: NodeJS.ProcessEnv): CaSource | undefined {
  const script = 'import json,ssl\ntry:\n import certifi; w=certifi.where()\nexcept Exception:\n w=ssl.get_default_verify_paths().cafile\nprint(json.dumps(w))';
  const probe = spawnSync('python3', ['-c', script], { encoding: 'utf8', env, timeout: 5000 });
  if (probe.error) return undefined;
  if (env.REQUESTS_CA_BUNDLE) return fromFile(`REQUESTS_CA_BUNDLE=${env.REQUESTS_CA_BUNDLE}`, env.REQUESTS_CA_BUNDLE);
  if (env.CURL_CA_BUNDLE) return fromFile(`CURL_CA_BUNDLE=${env.CURL_CA_BUNDLE}`, env.CURL_CA_BUNDLE);
  const where = (() => { try { return JSON.parse(probe.stdout) as string | null; } catch { return null; } })();
  return where ? fromFile(`default bundle ${where}`, where) : {};
}

function curlSource(env: NodeJS.ProcessEnv, systemBundle: string | undefined): CaSource | undefined {
  if (spawnSync('curl', ['--version'], { timeout: 5000 }).error) return undefined;
  if (env.CURL_CA_BUNDLE) return fromFile(`CURL_CA_BUNDLE=${env.CURL_CA_BUNDLE}`, env.CURL_CA_BUNDLE);
  if (env.SSL_CERT_FILE) return fromFile(`SSL_CERT_FILE=${env.SSL_CERT_FILE}`, env.SSL_CERT_FILE);
  return systemBundle ? fromFile(`system bundle ${systemBundle}`, systemBundle) : {};
}

/**
 * What the checks are about: the proxy on this machine and the CA in --home, or a team's
 * gateway and the CA kept for it. Each knows its own fixes.
 */
interface DoctorTarget {
  /** The proxy's own checks ('proxy' and its CA files, or 'gateway' and its CA). */
  setup: CheckResult[];
  host: string;
  port: number;
  authorization?: string;
  expected: ExpectedProxy;
  certPem?: string;
  /** The check's name for the proxy itself, and its fix when it does not answer. */
  proxyName: string;
  proxyFix: string;
  /** When the round trip fails although the proxy answers: the CA checked here is not the one it signs with. */
  roundTripFix: string;
  trustFix: string;
  /** The flags that name this target again in a fix (`--home … --port …`, or `--gateway …`). */
  flags: string;
  /** The gateway answered and refused the user and password: the first check says so, in place of asking it. */
  loginRefused?: CheckResult;
}

function localTarget(args: DoctorArgs): DoctorTarget {
  const host = args.host === '0.0.0.0' || args.host === '::' ? '127.0.0.1' : args.host;
  const certs = paths(args.home).certs;
  const certPath = join(certs, CA_CERT_FILE);
  const keyPath = join(certs, CA_KEY_FILE);
  const certPem = readOrUndefined(certPath);
  const keyMode = existsSync(keyPath) ? statSync(keyPath).mode & 0o777 : undefined;
  const setup = [caFilesCheck({ certPem, keyMode, certPath, keyPath, now: Date.now() })];
  if (certPem) setup.push(caKindCheck(readConstraintBases(certPem), makeInterceptList(args.intercept).intercept));
  // Fixes name this proxy and home when they are not the defaults (a bare `llmtap env` would point elsewhere).
  const flags = sameProxyFlags({ home: args.home, host: args.host, port: args.port });
  return {
    setup, host, port: args.port, expected: { host: '127.0.0.1', port: args.port }, certPem, flags,
    proxyName: 'proxy',
    proxyFix: `llmtap start${flags}`,
    roundTripFix: 'is the proxy using this --home? (its CA must be the one checked here)',
    // Always with --home: sudo changes `~`, so without it root's own CA would be trusted.
    trustFix: `sudo llmtap trust --home ${shellQuote(args.home)}`,
  };
}

async function gatewayTarget(args: DoctorArgs, text: string): Promise<DoctorTarget> {
  const connection = await connectGateway(text, args['gateway-fingerprint'], args.home);
  const gateway = 'error' in connection ? parseGateway(text) as Gateway : connection.gateway;
  // Fixes name the gateway again without a password written into its URL, and always --home (sudo changes `~`).
  const named = ` --gateway ${shellQuote(gatewayShown(gateway))}`;
  const home = ` --home ${shellQuote(args.home)}`;
  const common = {
    host: gateway.host, port: gateway.port,
    expected: { host: gateway.host, port: gateway.port, ...(gateway.user !== undefined ? { user: gateway.user } : {}) },
    proxyName: 'gateway', proxyFix: 'ask the gateway\'s team (is the URL right?)',
    roundTripFix: 'ask the gateway\'s team (its CA must be the one checked here)',
    trustFix: `sudo llmtap trust${named}${home}`,
    flags: `${named}${args.home === defaultHome() ? '' : home}`,
  };
  if ('error' in connection && connection.refused && gateway.user !== undefined) {
    return { ...common, setup: [{ name: 'gateway CA', status: 'skip', detail: 'not fetched: the gateway refused the login' }], loginRefused: loginRefusedCheck(gateway, gateway.user) };
  }
  if ('error' in connection) {
    return { ...common, setup: [{ name: 'gateway CA', status: 'fail', detail: connection.error, fix: 'ask the gateway\'s team: the URL, your login, or the fingerprint of a CA they rotated' }] };
  }
  const { ca } = connection;
  const setup: CheckResult[] = [{ name: 'gateway CA', status: 'ok', detail: `${ca.certPath}, SHA-256 ${ca.fingerprint}${ca.firstUse ? ' (trusted on first use: compare it with the fingerprint the gateway\'s team publishes)' : ''}` }];
  if (connection.offline) setup.push({ name: 'gateway CA', status: 'warn', detail: `${connection.offline}; checked with the CA kept from before`, fix: common.proxyFix });
  return { ...common, setup, certPem: readOrUndefined(ca.certPath), ...(connection.authorization ? { authorization: connection.authorization } : {}) };
}

/**
 * A gateway that refused the login (its pages answer 401, and every request a tool sends
 * with that login 407): the password is wrong or the user is not one of the gateway's.
 * The gateway does not say which (both take the same time, so names cannot be probed).
 */
function loginRefusedCheck(gateway: Gateway, user: string): CheckResult {
  return {
    name: 'gateway', status: 'fail',
    detail: `${formatAuthority(gateway.host, gateway.port)} refused the login of ${user} (407 Proxy Authentication Required to tools): the password is wrong, or the gateway has no user ${user}`,
    fix: `check ${user}'s password (LLMTAP_GATEWAY_PASSWORD, the login in HTTPS_PROXY, or the one typed); if it is right, ask the gateway's team whether ${user} is one of its users`,
  };
}

export const doctorCommand: CommandModule<{ home: string }, DoctorArgs> = {
  ...USAGE.doctor,
  builder: (y: Argv<{ home: string }>) => y
    .options(listenOptions)
    .check((a) => {
      const problem = listenProblem(a);
      if (problem) throw new Error(problem);
      return true;
    })
    .option('json', { type: 'boolean', default: false, describe: 'print the checks as JSON' })
    .option('intercept', { type: 'string', array: true, default: [], describe: 'extra intercepted hosts the proxy runs with (as for start)' })
    .options(gatewayOptions)
    .check((a) => {
      const problem = gatewayProblem(a, typedFlags(), ['host', 'port']);
      if (problem) throw new Error(problem);
      return true;
    }) as unknown as Argv<DoctorArgs>,
  handler: async (args) => {
    const env = process.env;
    const target = args.gateway !== undefined ? await gatewayTarget(args, args.gateway) : localTarget(args);
    const { host, port, certPem, flags } = target;
    const interceptHosts = makeInterceptList(args.intercept).intercept;
    const results: CheckResult[] = [];

    const { status, error } = target.loginRefused ? {} : await fetchStatus(host, port, target.authorization);
    const where = formatAuthority(host, port);
    if (target.loginRefused) results.push(target.loginRefused);
    else results.push(status ? { name: target.proxyName, status: 'ok', detail: `llmtap ${status.version ?? ''} on ${where}` } : { name: target.proxyName, status: 'fail', detail: `${where}: ${error}`, fix: target.proxyFix });
    // What could not be asked says why: not reached, or reached and the login refused.
    const unasked = target.loginRefused ? 'the gateway refused the login' : 'proxy not reachable';
    const trip = status && certPem ? await roundTrip(host, port, certPem, target.authorization) : undefined;
    if (trip) results.push(trip.error ? { name: 'round trip', status: 'fail', detail: `CONNECT + TLS to the built-in echo host: ${trip.error}`, fix: target.roundTripFix } : { name: 'round trip', status: 'ok', detail: 'CONNECT, TLS with the llmtap CA, request and answer via the built-in echo host' });
    else results.push({ name: 'round trip', status: 'skip', detail: status ? 'no CA to trust' : unasked });

    results.push(...target.setup);
    const envFix = envFixFor(flags);
    if (certPem) {
      const systemBundle = SYSTEM_BUNDLES.find((f) => existsSync(f));
      results.push(systemStoreCheck(systemBundle ? readOrUndefined(systemBundle) : undefined, certPem, target.trustFix));
      const nodeSource: CaSource = env.NODE_EXTRA_CA_CERTS ? fromFile(`NODE_EXTRA_CA_CERTS=${env.NODE_EXTRA_CA_CERTS}`, env.NODE_EXTRA_CA_CERTS) : { missing: 'NODE_EXTRA_CA_CERTS is not set (Node ignores the system store)' };
      results.push(toolTrustCheck('Node', nodeSource, certPem, envFix));
      results.push(toolTrustCheck('Python', pythonSource(env), certPem, envFix));
      // httpx (under the official Python SDKs) reads SSL_CERT_FILE, not requests' variables.
      results.push(toolTrustCheck('httpx', httpxSource(env), certPem, envFix));
      results.push(toolTrustCheck('curl', curlSource(env, systemBundle), certPem, `${envFix}, or ${target.trustFix}`));
    }
    results.push(...proxyVarsCheck(env, target.expected, interceptHosts, envFix));
    results.push(nodeFetchCheck(process.version, env.NODE_OPTIONS, preloadFlag(), `eval "$(llmtap env --node${flags})", or start the tool with llmtap run${flags} -- CMD`));
    results.push(skewCheck(trip?.proxyNow, Date.now()));
    results.push(untrustedClientsCheck(status?.untrustedCa, target.trustFix, flags));
    results.push(archiveCheck(status?.recorder));
    if (target.loginRefused) for (const r of results) if (r.status === 'skip' && r.detail === 'proxy not reachable') r.detail = unasked;

    process.stdout.write(args.json ? `${JSON.stringify({ ok: exitCodeOf(results) === 0, checks: results }, null, 2)}\n` : renderChecks(results));
    process.exitCode = exitCodeOf(results);
  },
};

/** The fix for a shell that does not point at this proxy: its variables, or a command started with them. */
function envFixFor(flags: string): string {
  return `eval "$(llmtap env${flags})", or start the tool with llmtap run${flags} -- CMD`;
}
