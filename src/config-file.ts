import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ConfigError } from './config-error.js';
import { DEFAULTS, parseConnectTo, validateSettings, type ProxyConfig } from './config.js';
import { parseRateLimit } from './policy/rate-limit.js';
import { readAuthFile } from './proxy/auth.js';

type Kind = 'string' | 'number' | 'boolean' | 'string[]' | 'number[]';

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'silent'];

/** Every key a config file may hold, its type, and where it goes. Times are in seconds. */
const KEYS: Record<string, { kind: Kind; apply: (value: never, into: Partial<ProxyConfig>, base: string) => void }> = {
  intercept: { kind: 'string[]', apply: (v: string[], c) => { c.intercept = v; } },
  passthrough: { kind: 'string[]', apply: (v: string[], c) => { c.passthrough = v; } },
  upstreamCa: { kind: 'string[]', apply: (v: string[], c, base) => { c.upstreamCa = v.map((f) => resolve(base, f)); } },
  upstreamProxy: { kind: 'string', apply: (v: string, c) => { c.upstreamProxy = v; } },
  upstreamProxyEnv: { kind: 'boolean', apply: (v: boolean, c) => { c.upstreamProxyEnv = v; } },
  connectTo: { kind: 'string[]', apply: (v: string[], c) => { c.connectTo = v.map(parseConnectTo); } },
  failClosed: { kind: 'boolean', apply: (v: boolean, c) => { c.failClosed = v; } },
  maxRequestBody: { kind: 'number', apply: (v: number, c) => { c.maxRequestBody = v; } },
  captureLimit: { kind: 'number', apply: (v: number, c) => { c.captureLimit = v; } },
  drainTimeout: { kind: 'number', apply: (v: number, c) => { c.drainTimeoutMs = v * 1000; } },
  headersTimeout: { kind: 'number', apply: (v: number, c) => { c.headersTimeoutMs = v * 1000; } },
  handshakeTimeout: { kind: 'number', apply: (v: number, c) => { c.handshakeTimeoutMs = v * 1000; } },
  keepAliveTimeout: { kind: 'number', apply: (v: number, c) => { c.keepAliveTimeoutMs = v * 1000; } },
  upstreamConnectTimeout: { kind: 'number', apply: (v: number, c) => { c.upstreamConnectTimeoutMs = v * 1000; } },
  upstreamHeadersTimeout: { kind: 'number', apply: (v: number, c) => { c.upstreamHeadersTimeoutMs = v * 1000; } },
  upstreamIdleTimeout: { kind: 'number', apply: (v: number, c) => { c.upstreamIdleTimeoutMs = v * 1000; } },
  rateLimit: { kind: 'string', apply: (v: string, c) => { c.rateLimit = parseRateLimit(v); } },
  redact: { kind: 'string[]', apply: (v: string[], c) => { for (const source of v) new RegExp(source, 'g'); c.redact = v; } },
  allowTarget: { kind: 'string[]', apply: (v: string[], c) => { c.allowTargets = v; } },
  allowPort: { kind: 'number[]', apply: (v: number[], c) => { c.allowPorts = v; } },
  retainDays: { kind: 'number', apply: (v: number, c) => { c.retainDays = v; } },
  metrics: { kind: 'boolean', apply: (v: boolean, c) => { c.metrics = v; } },
  otlpEndpoint: { kind: 'string', apply: (v: string, c) => { c.otlpEndpoint = v; } },
  otlpContent: { kind: 'boolean', apply: (v: boolean, c) => { c.otlpContent = v; } },
  prices: { kind: 'string', apply: (v: string, c, base) => { c.prices = resolve(base, v); } },
  uiAdmins: { kind: 'string[]', apply: (v: string[], c) => { c.uiAdmins = v; } },
  authFile: { kind: 'string', apply: (v: string, c, base) => { c.usersFile = resolve(base, v); c.auth = readAuthFile(c.usersFile); } },
  policy: { kind: 'string', apply: (v: string, c, base) => { c.policyFile = resolve(base, v); } },
  logLevel: { kind: 'string', apply: (v: string, c) => { if (!LOG_LEVELS.includes(v)) throw new Error(`must be one of ${LOG_LEVELS.join(', ')}`); c.logLevel = v; } },
};

/** The options a running proxy can take from a reloaded file; the rest need a restart. */
export const RELOADABLE: ReadonlyArray<keyof ProxyConfig> = ['intercept', 'passthrough', 'rateLimit', 'redact', 'allowTargets', 'allowPorts', 'auth', 'usersFile', 'policy', 'uiAdmins'];

/**
 * Reads a JSON config file. Unknown keys, wrong types and bad values are refused
 * with a message naming the file, the key and its line, so a typo never silently
 * turns a rule off.
 */
export function loadConfigFile(file: string): Partial<ProxyConfig> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    // V8 names a position for some errors only, and may quote the whole text: find the place ourselves, keep one line.
    const at = jsonErrorOffset(text);
    const reason = (err as Error).message.split(/, "/)[0]!.replace(/ in JSON at position \d+.*$/, '').replace(/\s+/g, ' ');
    throw new ConfigError(`${file}:${lineOf(text, at)}: not valid JSON (${reason})`);
  }
  if (!data || typeof data !== 'object' || Array.isArray(data)) throw new ConfigError(`${file}:1: expected a JSON object`);
  const config: Partial<ProxyConfig> = {};
  for (const [key, value] of Object.entries(data)) {
    const where = `${file}:${lineOfKey(text, key)}`;
    const spec = Object.hasOwn(KEYS, key) ? KEYS[key] : undefined; // not "constructor", "__proto__"…
    if (!spec) throw new ConfigError(`${where}: unknown key "${key}" (known: ${Object.keys(KEYS).join(', ')})`);
    if (!hasKind(value, spec.kind)) throw new ConfigError(`${where}: "${key}" must be ${spec.kind === 'string[]' ? 'an array of strings' : spec.kind === 'number[]' ? 'an array of numbers' : `a ${spec.kind}`}`);
    try {
      spec.apply(value as never, config, dirname(resolve(file)));
    } catch (err) {
      throw new ConfigError(`${where}: "${key}": ${(err as Error).message.replace(/^--[\w-]+:?\s*/, '')}`, { cause: err });
    }
  }
  checkSettings(config, data as Record<string, unknown>, file, text);
  return config;
}

/**
 * The checks `start` makes of each setting (validateSettings: a number in range, a file
 * that exists, a prices file that loads), named by the file's key and line: what
 * `check-config` passed, `start` must not refuse. Checks that need flags too (gateway
 * mode needs a login) are `start`'s.
 */
function checkSettings(config: Partial<ProxyConfig>, data: Record<string, unknown>, file: string, text: string): void {
  try {
    validateSettings({ ...DEFAULTS, home: '', ...config });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const flag = /^--([a-z-]+):?\s*/.exec(err.message);
    const key = flag?.[1]!.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    if (!flag || key === undefined || !Object.hasOwn(data, key)) throw err;
    throw new ConfigError(`${file}:${lineOfKey(text, key)}: "${key}": ${err.message.slice(flag[0].length)}`);
  }
}

function hasKind(value: unknown, kind: Kind): boolean {
  switch (kind) {
    case 'string[]': return Array.isArray(value) && value.every((v) => typeof v === 'string');
    case 'number[]': return Array.isArray(value) && value.every((v) => typeof v === 'number');
    default: return typeof value === kind;
  }
}

function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/** Line of a top-level key: the first `"key":` in the text (good enough for a flat config). */
function lineOfKey(text: string, key: string): number {
  const at = keyOffset(text, key);
  return at < 0 ? 1 : lineOf(text, at);
}

function keyOffset(text: string, key: string): number {
  return text.search(new RegExp(`"${key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"\\s*:`));
}

/**
 * `file:line` of a key of a config file that loaded, for a warning about its value
 * (check-config, the proxy's log), as its errors name theirs; the file alone when it
 * no longer reads or does not hold the key. With `value`, the line of that string inside
 * the key's array (a `uiAdmins` name), or the key's when it is not found there as written.
 */
export function configKeyWhere(file: string, key: string, value?: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return file;
  }
  const at = keyOffset(text, key);
  if (at < 0) return file;
  if (value === undefined) return `${file}:${lineOf(text, at)}`;
  const end = text.indexOf(']', at);
  const found = text.slice(at, end < 0 ? undefined : end).indexOf(JSON.stringify(value));
  return `${file}:${lineOf(text, found < 0 ? at : at + found)}`;
}

/**
 * Offset of the first JSON syntax error, by a small strict scanner (RFC 8259);
 * the text's length when it ends too early.
 */
export function jsonErrorOffset(text: string): number {
  let i = 0;
  const fail = (): never => {
    throw new JsonStop(i);
  };
  const space = (): void => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  };
  const literal = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null/y;
  const string = (): void => {
    i++;
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === 34) return void i++;
      if (c < 0x20) fail();
      if (c === 92) {
        i++;
        if (text[i] === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) fail();
          i += 4;
        } else if (!'"\\/bfnrt'.includes(text[i] ?? 'x')) fail();
      }
      i++;
    }
    fail();
  };
  const value = (depth: number): void => {
    space();
    if (depth > 1000) fail();
    const c = text[i];
    if (c === '{' || c === '[') {
      const close = c === '{' ? '}' : ']';
      i++;
      space();
      if (text[i] === close) return void i++;
      for (;;) {
        if (c === '{') {
          space();
          if (text[i] !== '"') fail();
          string();
          space();
          if (text[i] !== ':') fail();
          i++;
        }
        value(depth + 1);
        space();
        if (text[i] === ',') i++;
        else if (text[i] === close) return void i++;
        else fail();
      }
    }
    if (c === '"') return string();
    literal.lastIndex = i;
    if (!literal.test(text)) fail();
    i = literal.lastIndex;
  };
  try {
    value(0);
    space();
    if (i < text.length) fail();
    return text.length;
  } catch (err) {
    if (err instanceof JsonStop) return Math.min(err.at, text.length);
    throw err;
  }
}

class JsonStop {
  constructor(readonly at: number) {}
}
