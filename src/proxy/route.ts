import { isIP } from 'node:net';
import { hostMatches, stripBrackets } from '../host-pattern.js';
import { builtInPaths, PROVIDER_HOSTS } from '../providers/registry.js';

export type RouteDecision = 'intercept' | 'tunnel';

export interface InterceptList {
  intercept: readonly string[];
  passthrough: readonly string[];
  /** The user's own --intercept patterns (a subset of `intercept`). */
  extra: readonly string[];
}

/** Built-in provider hosts plus the user's --intercept, minus --passthrough (which always wins). */
export function makeInterceptList(extra: readonly string[] = [], passthrough: readonly string[] = []): InterceptList {
  return { intercept: [...PROVIDER_HOSTS.map((p) => p.pattern), ...extra], passthrough: [...passthrough], extra: [...extra] };
}

/**
 * Which paths of an intercepted host are recorded: undefined = all. A built-in host
 * that is only partly LLM traffic (chatgpt.com: /backend-api/codex/…) is scoped by
 * path prefix; the user naming the host in --intercept means all of it.
 */
export function recordScope(list: InterceptList, host: string, port: number): readonly string[] | undefined {
  if (list.extra.some((p) => hostMatches(p, host, port))) return undefined;
  return builtInPaths(host, port);
}

export function decideRoute(list: InterceptList, host: string, port: number): RouteDecision {
  if (list.passthrough.some((p) => hostMatches(p, host, port))) return 'tunnel';
  return list.intercept.some((p) => hostMatches(p, host, port)) ? 'intercept' : 'tunnel';
}

export interface Authority {
  host: string;
  port: number;
}

/**
 * Parses a CONNECT target: "host:port", "1.2.3.4:443", "[::1]:443".
 * Returns undefined for anything else (no port, bad port, junk characters).
 */
export function parseAuthority(authority: string): Authority | undefined {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]\s/@]+):(\d{1,5})$/.exec(authority);
  if (!m) return undefined;
  const port = Number(m[2]);
  if (port < 1 || port > 65535) return undefined;
  const rawHost = m[1]!;
  const host = stripBrackets(rawHost).toLowerCase();
  if (rawHost.startsWith('[') && isIP(host) !== 6) return undefined;
  if (!rawHost.startsWith('[') && !isIP(host) && !/^[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*\.?$/i.test(host)) return undefined;
  return { host: host.replace(/\.$/, ''), port };
}

/** host:port for logs and Host headers, with IPv6 in brackets. */
export function formatAuthority(host: string, port: number): string {
  return `${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
}
