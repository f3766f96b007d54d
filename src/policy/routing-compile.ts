import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { isAbsolute, resolve } from 'node:path';
import { inspect } from 'node:util';
import { RuleError, type Matcher } from './match.js';
import type { CredentialHeader, CredentialsSpec, FallbackSpec, Mode, RouteTargetSpec } from './types.js';

/** An upstream origin named by a rule. `label` is how records and messages name it. */
export interface UpstreamOrigin {
  tls: boolean;
  host: string;
  port: number;
  label: string;
}

/** Where one try goes: an origin (absent: the host the client asked for), the model and a path prefix. */
export interface CompiledTarget {
  upstream?: UpstreamOrigin;
  model?: string;
  pathPrefix?: string;
}

interface RoutingRuleBase {
  id: string;
  mode: Mode;
  match: Matcher;
}

export interface RouteRule extends RoutingRuleBase {
  kind: 'route';
  target: CompiledTarget;
}

/** Which failures of a try hand the request to the next upstream. */
export interface FallbackTriggers {
  connectError: boolean;
  /** Statuses that are retried (429, 5xx, or ones named one by one). */
  status(code: number): boolean;
  /** As written, for the record. */
  names: string[];
}

export interface FallbackRule extends RoutingRuleBase {
  kind: 'fallback';
  upstreams: (CompiledTarget & { upstream: UpstreamOrigin })[];
  on: FallbackTriggers;
}

/**
 * A credential read from the environment or a file at load time. It prints as
 * `[secret]` (JSON, util.inspect, String) so no log line or record can carry it
 * by accident; only `reveal()` gives the value, and only the upstream request calls it.
 */
export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  reveal(): string {
    return this.#value;
  }
  toJSON(): string {
    return '[secret]';
  }
  toString(): string {
    return '[secret]';
  }
  [inspect.custom](): string {
    return '[secret]';
  }
}

export interface CredentialsRule extends RoutingRuleBase {
  kind: 'credentials';
  /** Absent: the upstream provider's usual header (see credentials.ts). */
  header?: CredentialHeader;
  /** `env:NAME` or `file:/path`: what the record names, never the value. */
  source: string;
  secret: Secret;
}

/** Where credentials come from; tests pass their own. Relative files are read from `baseDir` (the policy file's directory). */
export interface CredentialSources {
  env?: NodeJS.ProcessEnv;
  readFile?: (path: string) => string;
  baseDir?: string;
}

type Path = (string | number)[];

/** `https://host[:port]` or `http://host[:port]`: an origin only (no path, query, or user info). */
export function parseUpstream(url: string, path: Path): UpstreamOrigin {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new RuleError(path, `"${url}" is not a URL (https://host[:port] or http://host:port)`);
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new RuleError(path, `"${url}": only https:// and http:// upstreams`);
  if (u.username || u.password) throw new RuleError(path, 'no user or password in an upstream URL (use credentials)');
  if ((u.pathname !== '/' && u.pathname !== '') || u.search || u.hash) throw new RuleError(path, `"${url}": an origin only; put a path in pathPrefix`);
  const tls = u.protocol === 'https:';
  const host = u.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  // Plain HTTP leaves this machine in clear text (prompts, answers, an injected key): only a local server may be named so.
  if (!tls && !isLoopback(host)) throw new RuleError(path, `"${url}": http:// only to a loopback host (127.0.0.0/8, ::1, localhost); use https://`);
  const port = u.port ? Number(u.port) : tls ? 443 : 80;
  const defaultPort = port === (tls ? 443 : 80);
  const shown = isIP(host) === 6 ? `[${host}]` : host;
  return { tls, host, port, label: `${u.protocol}//${shown}${defaultPort ? '' : `:${port}`}` };
}

/** 127.0.0.0/8, ::1 and localhost: addresses that never leave the machine (URL parsing has already normalised `127.1`, `[0::1]`). */
function isLoopback(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

export function compileTarget(spec: RouteTargetSpec, path: Path): CompiledTarget {
  return {
    upstream: spec.upstream === undefined ? undefined : parseUpstream(spec.upstream, [...path, 'upstream']),
    model: spec.model,
    // A trailing slash would double the request path's own.
    pathPrefix: spec.pathPrefix?.replace(/\/+$/, '') || undefined,
  };
}

const DEFAULT_TRIGGERS = ['connect_error', '429', '5xx'];

export function compileTriggers(on: (string | number)[] | undefined, path: Path): FallbackTriggers {
  const names = (on ?? DEFAULT_TRIGGERS).map(String);
  let connectError = false;
  let any5xx = false;
  const codes = new Set<number>();
  names.forEach((name, i) => {
    if (name === 'connect_error') connectError = true;
    else if (name === '5xx') any5xx = true;
    else if (/^\d{3}$/.test(name) && (Number(name) === 429 || Number(name) === 408 || (Number(name) >= 500 && Number(name) <= 599))) codes.add(Number(name));
    else throw new RuleError([...path, i], `"${name}" is not connect_error, 429, 5xx or a 5xx status`);
  });
  return { connectError, status: (code) => codes.has(code) || (any5xx && code >= 500 && code <= 599), names };
}

export function compileFallback(spec: FallbackSpec, path: Path): Pick<FallbackRule, 'upstreams' | 'on'> {
  const upstreams = spec.upstreams.map((entry, i) => {
    const at = [...path, 'upstreams', i];
    // A bare URL entry is named by its own position in messages (there is no `upstream` key to point at).
    if (typeof entry === 'string') return { upstream: parseUpstream(entry, at), model: undefined, pathPrefix: undefined };
    const target = compileTarget(entry, at);
    return { ...target, upstream: target.upstream! };
  });
  return { upstreams, on: compileTriggers(spec.on, [...path, 'on']) };
}

/**
 * Reads a rule's credential now (load and every reload): a missing variable or
 * an unreadable or empty file refuses the policy, naming the rule and the key.
 */
export function compileCredentials(spec: CredentialsSpec, ruleId: string, path: Path, sources: CredentialSources = {}): Pick<CredentialsRule, 'header' | 'source' | 'secret'> {
  if ((spec.fromEnv === undefined) === (spec.fromFile === undefined)) throw new RuleError(path, 'needs exactly one of fromEnv, fromFile');
  let value: string;
  let source: string;
  if (spec.fromEnv !== undefined) {
    source = `env:${spec.fromEnv}`;
    const v = (sources.env ?? process.env)[spec.fromEnv];
    if (v === undefined || v.trim() === '') throw new RuleError([...path, 'fromEnv'], `environment variable ${spec.fromEnv} is ${v === undefined ? 'not set' : 'empty'} (rule "${ruleId}")`);
    value = v.trim();
  } else {
    const file = isAbsolute(spec.fromFile!) ? spec.fromFile! : resolve(sources.baseDir ?? '.', spec.fromFile!);
    source = `file:${file}`;
    try {
      value = (sources.readFile ?? ((f) => readFileSync(f, 'utf8')))(file).trim();
    } catch (err) {
      throw new RuleError([...path, 'fromFile'], `cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'}) (rule "${ruleId}")`);
    }
    if (value === '') throw new RuleError([...path, 'fromFile'], `${file} is empty (rule "${ruleId}")`);
  }
  // A value that would end the header line early is refused here, not at the first request.
  if (/[\r\n\0]/.test(value)) throw new RuleError(path, `the credential holds a line break or NUL (rule "${ruleId}")`);
  return { header: spec.header, source, secret: new Secret(value) };
}
