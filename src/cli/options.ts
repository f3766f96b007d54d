import { DEFAULTS, defaultHome } from '../config.js';
import { patternError } from '../host-pattern.js';

/** Where the proxy listens; shared by the commands that point tools at it or probe it (env, run, pac, doctor). */
export const listenOptions = {
  host: { type: 'string', default: DEFAULTS.host, describe: 'address the proxy listens on' },
  port: { type: 'number', default: DEFAULTS.port, describe: 'port the proxy listens on' },
} as const;

/**
 * What listenOptions and `--intercept` must hold before a command prints a line that
 * points tools at the proxy (`env`'s exports, `pac`'s PROXY line) or starts one (`run`):
 * a port a client can reach (1-65535), host patterns `start` would take. One line naming the flag.
 */
export function listenProblem(args: { port?: unknown; intercept?: unknown }): string | undefined {
  const port = args.port as number;
  if (!Number.isInteger(port) || port < 1 || port > 65535) return `--port ${String(port)}: must be 1-65535`;
  for (const pattern of Array.isArray(args.intercept) ? (args.intercept as string[]) : []) {
    const problem = patternError(pattern);
    if (problem) return `--intercept: ${problem}`;
  }
  return undefined;
}

/**
 * `--prices` for the read-side commands that work out a price the archive did not record
 * (each request's share of a Codex session's cost, a rerouted request's cost in `policy
 * test`): the file the proxy runs with, so they price as it did.
 */
export const pricesOption = {
  prices: { type: 'string', describe: 'the --prices file the proxy runs with (negotiated prices), for the prices worked out here' },
} as const;

/**
 * The flags that point another llmtap command at this same proxy and home, for the fixes
 * and hints commands print (`eval "$(llmtap env --home '/x' --port 9000)"`): only those
 * that differ from what the command would assume anyway; values quoted for a POSIX shell.
 */
export function sameProxyFlags(at: { home: string; host?: string; port: number }): string {
  let flags = at.home === defaultHome() ? '' : ` --home ${shellQuote(at.home)}`;
  if (at.host !== undefined && at.host !== DEFAULTS.host) flags += ` --host ${shellQuote(at.host)}`;
  if (at.port !== DEFAULTS.port) flags += ` --port ${at.port}`;
  return flags;
}

/** Single-quotes a value for POSIX shells. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
