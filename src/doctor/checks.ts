import { X509Certificate } from 'node:crypto';
import { hostMatches } from '../host-pattern.js';
import { hostPermitted } from '../tls/name-constraints.js';
import { redactUrl } from '../proxy/parent-proxy.js';
import { counted } from '../cli/render/format.js';

/**
 * `llmtap doctor`'s verdicts. Pure: each takes facts gathered elsewhere (files,
 * environment, probes) and returns a line with the fix, so every broken setup is
 * unit-testable without breaking a machine.
 */
export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

export interface CheckResult {
  name: string;
  status: CheckStatus;
  detail: string;
  fix?: string;
}

const ok = (name: string, detail: string): CheckResult => ({ name, status: 'ok', detail });
const fail = (name: string, detail: string, fix: string): CheckResult => ({ name, status: 'fail', detail, fix });
const warn = (name: string, detail: string, fix: string): CheckResult => ({ name, status: 'warn', detail, fix });

const DAY_MS = 86_400_000;
const EXPIRY_WARN_DAYS = 30;

/** Whether a PEM bundle holds the certificate: compares base64 bodies, whitespace ignored. */
export function bundleHolds(bundle: string, certPem: string): boolean {
  const body = (pem: string) => pem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
  return bundle.replace(/\s+/g, '').includes(body(certPem));
}

export function caFilesCheck(facts: { certPem?: string; keyMode?: number; certPath: string; keyPath: string; now: number }): CheckResult {
  const name = 'CA files';
  if (!facts.certPem || facts.keyMode === undefined) return fail(name, `missing ${facts.certPem ? facts.keyPath : facts.certPath}`, 'llmtap ca (creates a new CA; clients must then trust it)');
  if (facts.keyMode & 0o077) return fail(name, `key ${facts.keyPath} has mode 0${facts.keyMode.toString(8)}`, `chmod 600 ${facts.keyPath}`);
  const notAfter = Date.parse(new X509Certificate(facts.certPem).validTo);
  const days = Math.floor((notAfter - facts.now) / DAY_MS);
  if (days < 0) return fail(name, `CA expired on ${new Date(notAfter).toISOString().slice(0, 10)}`, 'llmtap ca --regenerate, then llmtap trust');
  if (days < EXPIRY_WARN_DAYS) return warn(name, `CA expires in ${days} days`, 'llmtap ca --regenerate, then llmtap trust');
  return ok(name, `${facts.certPath}, key 0600, valid ${days} more days`);
}

/** Which kind of CA is installed, and intercepted hosts it cannot sign for. */
export function caKindCheck(constraints: { dns: string[]; ips: string[] } | undefined, interceptHosts: readonly string[]): CheckResult {
  const name = 'CA kind';
  if (!constraints) return ok(name, 'unconstrained (can sign for any host; keep the key private, or: llmtap ca --regenerate --name-constrained)');
  const outside = interceptHosts.filter((h) => !h.includes('*') && !hostPermitted(h.replace(/:\d+$/, ''), constraints));
  if (outside.length > 0) return warn(name, `name-constrained, but ${outside.join(', ')} fall outside its domains (clients will refuse them)`, `llmtap ca --regenerate --name-constrained ${outside.map((h) => `--intercept ${h}`).join(' ')}`);
  return ok(name, `name-constrained to ${[...constraints.dns, ...constraints.ips].length} domains`);
}

export function systemStoreCheck(systemBundle: string | undefined, certPem: string, trustFix: string): CheckResult {
  const name = 'system store';
  if (systemBundle === undefined) return { name, status: 'skip', detail: 'no system bundle found' };
  if (bundleHolds(systemBundle, certPem)) return ok(name, 'trusts the llmtap CA');
  // Not fatal: tools can trust it through the environment instead (llmtap env / run).
  return warn(name, 'does not hold the llmtap CA (tools that ignore SSL_CERT_FILE, e.g. browsers, will refuse)', trustFix);
}

/** A CA source a tool reads (a file named by an env variable, or its default bundle). */
export interface CaSource {
  /** Where it comes from, e.g. "NODE_EXTRA_CA_CERTS=/x" or "certifi /usr/lib/…/cacert.pem". */
  label?: string;
  contents?: string;
  /** Why there is no source, e.g. "NODE_EXTRA_CA_CERTS is not set". */
  missing?: string;
}

export function toolTrustCheck(tool: string, source: CaSource | undefined, certPem: string, fix: string): CheckResult {
  const name = `${tool} trust`;
  if (!source) return { name, status: 'skip', detail: `${tool} not installed` };
  if (!source.label) return fail(name, source.missing ?? `${tool} has no CA source that holds the llmtap CA`, fix);
  if (source.contents === undefined) return fail(name, `${source.label}: file not readable`, fix);
  if (!bundleHolds(source.contents, certPem)) return fail(name, `${source.label} does not hold the llmtap CA`, fix);
  return ok(name, `${source.label}`);
}

/** The proxy this shell should send through: one on this machine (any loopback name), or a team's gateway as its login. */
export interface ExpectedProxy {
  host: string;
  port: number;
  /** The gateway's proxy user: the variables must log in as them (else every request is answered 407). */
  user?: string;
}

const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '[::1]', '::1'];

/** This shell's proxy variables: HTTPS_PROXY at the proxy (with the login a gateway needs), NO_PROXY not excluding intercepted hosts. */
export function proxyVarsCheck(env: Record<string, string | undefined>, expected: ExpectedProxy, interceptHosts: readonly string[], fix = 'eval "$(llmtap env)", or start the tool with llmtap run -- CMD'): CheckResult[] {
  const results: CheckResult[] = [];
  const value = env.HTTPS_PROXY ?? env.https_proxy;
  if (!value) results.push(fail('HTTPS_PROXY', 'not set in this shell', fix));
  else {
    let url: URL | undefined;
    try { url = new URL(value.includes('://') ? value : `http://${value}`); } catch { /* reported below */ }
    const local = LOOPBACK_NAMES.includes(expected.host);
    const sameHost = url && (local ? LOOPBACK_NAMES.includes(url.hostname) : url.hostname.replace(/^\[|\]$/g, '').toLowerCase() === expected.host.toLowerCase());
    const shown = redactUrl(value); // a gateway login in it: the password never printed
    const user = url?.username ? decodeURIComponent(url.username) : undefined;
    const authority = expected.host.includes(':') ? `[${expected.host}]:${expected.port}` : `${expected.host}:${expected.port}`;
    if (!url || Number(url.port || 80) !== expected.port || !sameHost) results.push(fail('HTTPS_PROXY', `${shown} is not this proxy (${authority})`, fix));
    else if (expected.user !== undefined && user !== expected.user) results.push(fail('HTTPS_PROXY', `${shown} ${user === undefined ? 'carries no login' : `logs in as ${user}`}, not as ${expected.user} (the gateway answers 407 without one)`, fix));
    else results.push(ok('HTTPS_PROXY', shown));
  }
  const noProxy = (env.NO_PROXY ?? env.no_proxy ?? '').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
  const excluded = interceptHosts.filter((h) => !h.includes('*')).filter((h) => noProxy.some((entry) => noProxyMatches(entry, h)));
  if (excluded.length > 0) results.push(fail('NO_PROXY', `excludes intercepted ${excluded.join(', ')}`, `remove them from NO_PROXY, or ${fix.split(', or ')[0]}`));
  else results.push(ok('NO_PROXY', noProxy.length > 0 ? noProxy.join(',') : 'unset'));
  return results;
}

/**
 * Node's built-in fetch (what the openai and Anthropic SDKs use) ignores HTTPS_PROXY before
 * Node 22.21 and 24 (which read NODE_USE_ENV_PROXY): it needs llmtap's preload in
 * NODE_OPTIONS (`llmtap env --node`, or `llmtap run`), else such a tool goes straight to
 * the provider, unrecorded, while everything else in the shell checks out.
 */
export function nodeFetchCheck(nodeVersion: string, nodeOptions: string | undefined, preload: string, fix: string): CheckResult {
  const name = 'Node fetch';
  const [major = 0, minor = 0] = nodeVersion.replace(/^v/, '').split('.').map(Number);
  if (major >= 24 || (major === 22 && minor >= 21)) return ok(name, `Node ${nodeVersion} honours the proxy variables (NODE_USE_ENV_PROXY)`);
  if ((nodeOptions ?? '').split(/\s+/).includes(preload)) return ok(name, 'the llmtap preload is in NODE_OPTIONS');
  return warn(name, `Node ${nodeVersion}'s fetch ignores HTTPS_PROXY: SDKs that use it (openai, @anthropic-ai/sdk) would go to the provider directly, unrecorded`, fix);
}

/** curl's NO_PROXY semantics (also Python's and Go's): `*`, an exact host, or a domain suffix with or without a leading dot. */
export function noProxyMatches(entry: string, hostPattern: string): boolean {
  const host = hostPattern.replace(/:\d+$/, '').toLowerCase();
  const e = entry.replace(/:\d+$/, '');
  if (e === '*') return true;
  const bare = e.replace(/^\*?\./, '');
  return host === bare || host.endsWith(`.${bare}`) || hostMatches(e, host);
}

export function skewCheck(proxyNow: number | undefined, localNow: number): CheckResult {
  if (proxyNow === undefined) return { name: 'clock', status: 'skip', detail: 'no answer from the proxy to compare with' };
  const skew = Math.round((localNow - proxyNow) / 1000);
  // Leaves are backdated a day; more skew than that makes fresh leaves "not yet valid".
  if (Math.abs(skew) > 3600) return fail('clock', `this machine and the proxy differ by ${skew} s`, 'sync the clocks (timedatectl set-ntp true)');
  return ok('clock', `skew ${skew} s`);
}

/** `trustFix` and `runFlags` name this proxy's home and port (a bare `sudo llmtap trust` trusts root's CA). */
export function untrustedClientsCheck(counts: { rejected: number; likelyRejected: number } | undefined, trustFix: string, runFlags: string): CheckResult {
  const name = 'clients rejecting the CA';
  if (!counts) return { name, status: 'skip', detail: 'proxy not reachable' };
  const total = counts.rejected + counts.likelyRejected;
  if (total === 0) return ok(name, 'none since the proxy started');
  return warn(name, `${counts.rejected} rejected the CA (TLS alert), ${counts.likelyRejected} closed silently after the handshake; the proxy log names the hosts`, `${trustFix}, or start those tools with llmtap run${runFlags} -- CMD`);
}

/** What the proxy's recorder said on its status page: whether what goes through is being kept. */
export function archiveCheck(recorder: { recorded: number; lost: number; healthy: boolean; failClosed?: boolean } | undefined): CheckResult {
  const name = 'archive';
  if (!recorder) return { name, status: 'skip', detail: 'proxy not reachable' };
  const why = "the proxy log's \"archive unavailable\" or \"archive write failed\" line names SQLite's error (disk full, read-only, locked by another process)";
  if (!recorder.healthy) {
    const what = recorder.failClosed ? 'intercepted requests are refused (503 archive_unavailable, --fail-closed)' : 'traffic is forwarded but not recorded';
    return fail(name, `failing: ${what} (${counted(recorder.lost, 'record')} lost since start)`, why);
  }
  if (recorder.lost > 0) return warn(name, `recording again, but ${counted(recorder.lost, 'record')} ${recorder.lost === 1 ? 'was' : 'were'} lost since start`, why);
  return ok(name, `recording (${counted(recorder.recorded, 'record')} written since start, none lost)`);
}

export function exitCodeOf(results: CheckResult[]): number {
  return results.some((r) => r.status === 'fail') ? 1 : 0;
}

const MARK: Record<CheckStatus, string> = { ok: '✓', warn: '!', fail: '✗', skip: '-' };

export function renderChecks(results: CheckResult[]): string {
  const width = Math.max(...results.map((r) => r.name.length));
  return results.map((r) => `${MARK[r.status]} ${r.name.padEnd(width)}  ${r.detail}${r.fix ? `\n  ${' '.repeat(width)}  fix: ${r.fix}` : ''}`).join('\n') + '\n';
}
