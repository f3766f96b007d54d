import { isIP } from 'node:net';

/**
 * Host patterns used by the intercept list and the provider registry:
 *   "api.openai.com"        exact host, any port
 *   "*.openai.azure.com"    any subdomain (not the bare domain)
 *   "localhost:11434"       exact host on one port
 * Matching is case-insensitive; IPv6 hosts are written without brackets or in them.
 */
export function hostMatches(pattern: string, host: string, port?: number): boolean {
  const parsed = parsedPattern(pattern);
  if (parsed.port !== undefined && parsed.port !== port) return false;
  const h = normalizeHost(host);
  return parsed.suffix !== undefined ? h.length > parsed.suffix.length && h.endsWith(parsed.suffix) : h === parsed.host;
}

interface ParsedPattern {
  /** Exact host, lower case, no brackets or trailing dot. */
  host: string;
  /** For "*.domain": ".domain". */
  suffix?: string;
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
  parsed = host.startsWith('*.') ? { host, suffix: host.slice(1), port } : { host, port };
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

function splitPattern(pattern: string): { host: string; port?: number } {
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
  if (!bare || bare.includes('%') || !(name.test(bare) || isIP(bare) !== 0)) return `invalid host pattern "${pattern}"`;
  return undefined;
}
