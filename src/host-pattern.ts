import { isIP } from 'node:net';

/**
 * Host patterns used by the intercept list and the provider registry:
 *   "api.openai.com"        exact host, any port
 *   "*.openai.azure.com"    any subdomain (not the bare domain)
 *   "*-aiplatform.googleapis.com", "bedrock-runtime.*.amazonaws.com"
 *                           a `*` elsewhere stands for one label's worth of characters (no dots):
 *                           regional endpoints such as us-east5-aiplatform… or bedrock-runtime.us-west-2…
 *   "localhost:11434"       exact host on one port
 * Matching is case-insensitive; IPv6 hosts are written without brackets or in them.
 */
export function hostMatches(pattern: string, host: string, port?: number): boolean {
  const parsed = parsedPattern(pattern);
  if (parsed.port !== undefined && parsed.port !== port) return false;
  const h = normalizeHost(host);
  if (parsed.suffix !== undefined) return h.length > parsed.suffix.length && h.endsWith(parsed.suffix);
  return parsed.glob ? parsed.glob.test(h) : h === parsed.host;
}

interface ParsedPattern {
  /** Exact host, lower case, no brackets or trailing dot. */
  host: string;
  /** For "*.domain": ".domain". */
  suffix?: string;
  /** For a `*` inside a label ("*-aiplatform.googleapis.com"): one or more non-dot characters. */
  glob?: RegExp;
  port?: number;
}

/**
 * Patterns come from the built-in list and the config, and are matched on every
 * CONNECT and every request: each is parsed once. Bounded in case a caller ever
 * matches against patterns it makes up on the fly.
 */
const parsedPatterns = new Map<string, ParsedPattern>();
const MAX_PARSED_PATTERNS = 1024;

function parsedPattern(pattern: string): ParsedPattern {
  let parsed = parsedPatterns.get(pattern);
  if (parsed) return parsed;
  const { host: raw, port } = splitPattern(pattern.toLowerCase());
  const host = withoutTrailingDot(raw); // "example.com." is the same name
  if (host.startsWith('*.')) parsed = { host, suffix: host.slice(1), port };
  else if (host.includes('*')) parsed = { host, glob: new RegExp(`^${host.split('*').map((part) => part.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&')).join('[^.]+')}$`), port };
  else parsed = { host, port };
  if (parsedPatterns.size >= MAX_PARSED_PATTERNS) parsedPatterns.clear();
  parsedPatterns.set(pattern, parsed);
  return parsed;
}

function normalizeHost(host: string): string {
  return withoutTrailingDot(stripBrackets(host.toLowerCase()));
}

function withoutTrailingDot(name: string): string {
  return name.endsWith('.') ? name.slice(0, -1) : name;
}

export function splitPattern(pattern: string): { host: string; port?: number } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(pattern);
  if (bracketed) return { host: bracketed[1]!, port: bracketed[2] ? Number(bracketed[2]) : undefined };
  const colon = pattern.lastIndexOf(':');
  // More than one colon without brackets is a bare IPv6 address, never host:port.
  if (colon > 0 && pattern.indexOf(':') === colon && /^\d+$/.test(pattern.slice(colon + 1))) {
    return { host: pattern.slice(0, colon), port: Number(pattern.slice(colon + 1)) };
  }
  return { host: pattern };
}

export function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/** Validates a pattern for config/CLI input; returns an error message or undefined. */
export function patternError(pattern: string): string | undefined {
  if (!pattern || /\s/.test(pattern)) return `invalid host pattern "${pattern}"`;
  const { host, port } = splitPattern(pattern.toLowerCase());
  if (port !== undefined && (port < 1 || port > 65535)) return `invalid port in host pattern "${pattern}"`;
  const bare = host.startsWith('*.') ? host.slice(2) : host;
  // A name (letters, digits, - _ .) or an IP address: anything else could never match a target.
  const name = /^[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*\.?$/;
  // IPv6 zone ids ("fe80::1%eth0") never appear in a CONNECT target.
  // A `*` inside a label stands for characters of that label (see hostMatches).
  const named = bare.replace(/\*/g, 'x');
  // A glob whose last label is a number would stand for IPv4-looking names, which are never host names.
  if (bare.includes('*') && /(^|\.)\**\d[\d*]*\.?$/.test(bare)) return `invalid host pattern "${pattern}": a * cannot stand in an IP address`;
  if (!bare || bare.includes('%') || /^[*.]*$/.test(bare) || !(name.test(named) || isIP(bare) !== 0)) return `invalid host pattern "${pattern}"`;
  return undefined;
}
