import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { paths } from '../config.js';
import { archiveCheck, caKindCheck, caFilesCheck, exitCodeOf, nodeFetchCheck, proxyVarsCheck, renderChecks, skewCheck, systemStoreCheck, toolTrustCheck, untrustedClientsCheck, type CaSource, type CheckResult } from '../doctor/checks.js';
import { fetchStatus, roundTrip } from '../doctor/probe.js';
import { makeInterceptList } from '../proxy/route.js';
import { CA_CERT_FILE, CA_KEY_FILE } from '../tls/ca.js';
import { readConstraintBases } from '../tls/name-constraints.js';
import { listenOptions, listenProblem, sameProxyFlags, shellQuote } from './options.js';
import { preloadFlag } from './client-env.js';

interface DoctorArgs {
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

export const doctorCommand: CommandModule<{ home: string }, DoctorArgs> = {
  command: 'doctor',
  describe: 'check that the proxy runs, its CA is trusted and this shell points at it; prints the fix for each problem',
  builder: (y: Argv<{ home: string }>) => y
    .options(listenOptions)
    .check((a) => {
      const problem = listenProblem(a);
      if (problem) throw new Error(problem);
      return true;
    })
    .option('json', { type: 'boolean', default: false, describe: 'print the checks as JSON' })
    .option('intercept', { type: 'string', array: true, default: [], describe: 'extra intercepted hosts the proxy runs with (as for start)' }) as unknown as Argv<DoctorArgs>,
  handler: async (args) => {
    const env = process.env;
    const host = args.host === '0.0.0.0' || args.host === '::' ? '127.0.0.1' : args.host;
    const certs = paths(args.home).certs;
    const certPath = join(certs, CA_CERT_FILE);
    const keyPath = join(certs, CA_KEY_FILE);
    const certPem = readOrUndefined(certPath);
    const keyMode = existsSync(keyPath) ? statSync(keyPath).mode & 0o777 : undefined;
    const interceptHosts = makeInterceptList(args.intercept).intercept;
    const results: CheckResult[] = [];
    // Fixes name this proxy and home when they are not the defaults (a bare `llmtap env` would point elsewhere).
    const flags = sameProxyFlags({ home: args.home, host: args.host, port: args.port });

    const { status, error } = await fetchStatus(host, args.port);
    results.push(status ? { name: 'proxy', status: 'ok', detail: `llmtap ${status.version ?? ''} on ${host}:${args.port}` } : { name: 'proxy', status: 'fail', detail: `${host}:${args.port}: ${error}`, fix: `llmtap start${flags}` });
    const trip = status && certPem ? await roundTrip(host, args.port, certPem) : undefined;
    if (trip) results.push(trip.error ? { name: 'round trip', status: 'fail', detail: `CONNECT + TLS to the built-in echo host: ${trip.error}`, fix: 'is the proxy using this --home? (its CA must be the one checked here)' } : { name: 'round trip', status: 'ok', detail: 'CONNECT, TLS with the llmtap CA, request and answer via the built-in echo host' });
    else results.push({ name: 'round trip', status: 'skip', detail: status ? 'no CA to trust' : 'proxy not reachable' });

    results.push(caFilesCheck({ certPem, keyMode, certPath, keyPath, now: Date.now() }));
    if (certPem) {
      results.push(caKindCheck(readConstraintBases(certPem), interceptHosts));
      const systemBundle = SYSTEM_BUNDLES.find((f) => existsSync(f));
      // Always with --home: sudo changes `~`, so without it root's own CA would be trusted.
      const trustFix = `sudo llmtap trust --home ${shellQuote(args.home)}`;
      results.push(systemStoreCheck(systemBundle ? readOrUndefined(systemBundle) : undefined, certPem, trustFix));
      const envFix = envFixFor(flags);
      const nodeSource: CaSource = env.NODE_EXTRA_CA_CERTS ? fromFile(`NODE_EXTRA_CA_CERTS=${env.NODE_EXTRA_CA_CERTS}`, env.NODE_EXTRA_CA_CERTS) : { missing: 'NODE_EXTRA_CA_CERTS is not set (Node ignores the system store)' };
      results.push(toolTrustCheck('Node', nodeSource, certPem, envFix));
      results.push(toolTrustCheck('Python', pythonSource(env), certPem, envFix));
      // httpx (under the official Python SDKs) reads SSL_CERT_FILE, not requests' variables.
      results.push(toolTrustCheck('httpx', httpxSource(env), certPem, envFix));
      results.push(toolTrustCheck('curl', curlSource(env, systemBundle), certPem, `${envFix}, or ${trustFix}`));
    }
    results.push(...proxyVarsCheck(env, args.port, interceptHosts, envFixFor(flags)));
    results.push(nodeFetchCheck(process.version, env.NODE_OPTIONS, preloadFlag(), `eval "$(llmtap env --node${flags})", or start the tool with llmtap run${flags} -- CMD`));
    results.push(skewCheck(trip?.proxyNow, Date.now()));
    results.push(untrustedClientsCheck(status?.untrustedCa));
    results.push(archiveCheck(status?.recorder));

    process.stdout.write(args.json ? `${JSON.stringify({ ok: exitCodeOf(results) === 0, checks: results }, null, 2)}\n` : renderChecks(results));
    process.exitCode = exitCodeOf(results);
  },
};

/** The fix for a shell that does not point at this proxy: its variables, or a command started with them. */
function envFixFor(flags: string): string {
  return `eval "$(llmtap env${flags})", or start the tool with llmtap run${flags} -- CMD`;
}
