import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config-error.js';
import { jsonErrorOffset, loadConfigFile } from '../../src/config-file.js';
import { hashPasswordLine } from '../../src/proxy/auth.js';
import { checkConfig } from '../../src/cli/check-config.js';

const dir = mkdtempSync(join(tmpdir(), 'llmtap-config-'));
let n = 0;
function file(text: string, name = `config-${++n}.json`): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}
function errorOf(path: string): string {
  try {
    loadConfigFile(path);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    const message = (err as Error).message;
    expect(message.split('\n'), 'one line').toHaveLength(1);
    return message;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfigFile', () => {
  it('reads every key with its type; times are seconds, paths are relative to the file', async () => {
    mkdirSync(join(dir, 'sub'), { recursive: true });
    writeFileSync(join(dir, 'sub', 'users'), `${await hashPasswordLine('alice', 'pw')}\n`);
    writeFileSync(join(dir, 'sub', 'ca.pem'), '');
    const path = file(JSON.stringify({
      intercept: ['localhost:11434', '*.corp.example'],
      passthrough: ['api.anthropic.com'],
      upstreamCa: ['sub/ca.pem'],
      connectTo: ['api.openai.com:443:127.0.0.1:9999'],
      failClosed: true,
      maxRequestBody: 1024,
      captureLimit: 512,
      drainTimeout: 2,
      headersTimeout: 3,
      handshakeTimeout: 4,
      keepAliveTimeout: 5,
      upstreamConnectTimeout: 6,
      upstreamHeadersTimeout: 7,
      upstreamIdleTimeout: 8,
      rateLimit: '60/1m',
      redact: ['secret-\\d+'],
      allowTarget: ['localhost:11434'],
      allowPort: [443, 8443],
      authFile: 'sub/users',
      logLevel: 'debug',
    }, null, 2));
    const c = loadConfigFile(path);
    expect(c).toMatchObject({
      intercept: ['localhost:11434', '*.corp.example'],
      passthrough: ['api.anthropic.com'],
      upstreamCa: [join(dir, 'sub', 'ca.pem')],
      connectTo: [{ host: 'api.openai.com', port: 443, toHost: '127.0.0.1', toPort: 9999 }],
      failClosed: true,
      maxRequestBody: 1024,
      captureLimit: 512,
      drainTimeoutMs: 2000,
      headersTimeoutMs: 3000,
      handshakeTimeoutMs: 4000,
      keepAliveTimeoutMs: 5000,
      upstreamConnectTimeoutMs: 6000,
      upstreamHeadersTimeoutMs: 7000,
      upstreamIdleTimeoutMs: 8000,
      rateLimit: { limit: 60, windowMs: 60_000 },
      redact: ['secret-\\d+'],
      allowTargets: ['localhost:11434'],
      allowPorts: [443, 8443],
      logLevel: 'debug',
    });
    expect(c.auth?.map((u) => u.user)).toEqual(['alice']);
    expect(loadConfigFile(file('{}'))).toEqual({});
  });

  it('an unknown key names the file, its line and the key', () => {
    const path = file('{\n  "intercept": ["a.example"],\n  "passthru": ["b.example"]\n}\n');
    expect(errorOf(path)).toMatch(new RegExp(`^${escape(path)}:3: unknown key "passthru" \\(known: intercept, passthrough,`));
  });

  it('keys inherited from Object.prototype are unknown keys too', () => {
    for (const key of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      const path = file(`{\n\n  "${key}": 1\n}`);
      expect(errorOf(path), key).toContain(`:3: unknown key "${key}"`);
    }
  });

  it.each([
    ['intercept', '"api.example.com"', 'an array of strings'],
    ['intercept', '[1, 2]', 'an array of strings'],
    ['failClosed', '"yes"', 'a boolean'],
    ['maxRequestBody', '"32MB"', 'a number'],
    ['drainTimeout', 'null', 'a number'],
    ['allowPort', '["443"]', 'an array of numbers'],
    ['rateLimit', '{ "limit": 3 }', 'a string'],
    ['logLevel', '0', 'a string'],
  ])('wrong type: %s = %s', (key, value, expected) => {
    const path = file(`{\n  "intercept": [],\n  "${key}": ${value}\n}`);
    const line = key === 'intercept' ? 2 : 3;
    expect(errorOf(path)).toBe(`${path}:${line}: "${key}" must be ${expected}`);
  });

  it('bad values name the key and line: regex, rate limit, connect-to, log level, auth file', () => {
    const cases: Array<[string, string, RegExp]> = [
      ['redact', '["ok", "(unclosed"]', /"redact": Invalid regular expression: \/\(unclosed\/g?: Unterminated group/],
      ['rateLimit', '"lots"', /"rateLimit": "lots": expected N\/DURATION/],
      ['connectTo', '["a:b"]', /"connectTo": "a:b": expected HOST:PORT:CONNECT-TO-HOST:CONNECT-TO-PORT/],
      ['logLevel', '"verbose"', /"logLevel": must be one of trace, debug, info, warn, error, silent/],
      ['authFile', '"no-such-users-file"', /"authFile": .*no-such-users-file: cannot read \(ENOENT\)/],
    ];
    for (const [key, value, pattern] of cases) {
      const path = file(`{\n  "failClosed": false,\n\n  "${key}": ${value}\n}`);
      const message = errorOf(path);
      expect(message, key).toMatch(new RegExp(`^${escape(path)}:4: `));
      expect(message, key).toMatch(pattern);
    }
  });

  it('invalid JSON names the line where it breaks, in one line', () => {
    const cases: Array<[string, number]> = [
      ['{\n  "intercept": ["a"],\n  "passthrough": [\n}\n', 4], // V8 gives no position here
      ['{\n  "intercept": ["a"]\n  "passthrough": []\n}\n', 3], // missing comma
      ['{\n  "intercept": ["a",],\n}\n', 2], // trailing comma in array
      ['{\n  "failClosed": true,\n}\n', 3], // trailing comma in object
      ['{\n  "failClosed": tru\n}\n', 2],
      ['{\n  // comments are not JSON\n  "failClosed": true\n}\n', 2],
      ['{\n  "intercept": ["a\nb"]\n}\n', 2], // raw newline in a string
      ['{\n  "intercept": ["a"]\n}\n}\n', 4], // trailing garbage
      ['{\n  "intercept": ["a"\n', 3], // ends early
      ['', 1],
    ];
    for (const [text, line] of cases) {
      const path = file(text);
      const message = errorOf(path);
      expect(message, JSON.stringify(text)).toMatch(new RegExp(`^${escape(path)}:${line}: not valid JSON \\(`));
      expect(message).not.toContain('\n');
    }
  });

  it('a JSON value that is not an object is refused at line 1', () => {
    for (const text of ['[]', '"x"', '3', 'null']) expect(errorOf(file(text))).toMatch(/:1: expected a JSON object$/);
  });

  it('a missing file is a ConfigError', () => {
    expect(errorOf(join(dir, 'missing.json'))).toMatch(/missing\.json: cannot read \(ENOENT\)$/);
  });

  it('refuses what start would refuse, naming the key and its line: check-config passes only what starts', () => {
    const cases: [object, RegExp][] = [
      [{ metrics: true, prices: 'nope.yaml' }, /:3: "prices": .*nope\.yaml: cannot read \(ENOENT\)$/],
      [{ maxRequestBody: -5 }, /:2: "maxRequestBody": -5: must be a non-negative number of bytes$/],
      [{ metrics: true, retainDays: 0 }, /:3: "retainDays": 0: must be a positive number of days$/],
      [{ upstreamCa: ['/missing.pem'] }, /:2: "upstreamCa": \/missing\.pem: no such file$/],
      [{ drainTimeout: 0 }, /:2: "drainTimeout": must be a positive number of seconds$/],
      [{ intercept: ['bad host!!'] }, /:2: "intercept": invalid host pattern "bad host!!"/],
    ];
    for (const [config, message] of cases) {
      const path = file(JSON.stringify(config, null, 2));
      expect(errorOf(path), JSON.stringify(config)).toMatch(message);
      expect(() => checkConfig(path)).toThrow(message);
    }
  });
});

describe('jsonErrorOffset', () => {
  it('returns the length for valid JSON and the offset of the first error otherwise', () => {
    for (const text of ['{}', '[]', '{"a":[1,-2.5e3,true,false,null,"\\u00e9\\n"],"b":{"c":{}}}', ' \n{ "a" : 1 } \n']) {
      expect(jsonErrorOffset(text), text).toBe(text.length);
      expect(() => JSON.parse(text)).not.toThrow();
    }
    expect(jsonErrorOffset('{"a":1,}')).toBe(7);
    expect(jsonErrorOffset('[1,]')).toBe(3);
    expect(jsonErrorOffset('{"a" 1}')).toBe(5);
    expect(jsonErrorOffset('{"a":01}')).toBe(6);
    expect(jsonErrorOffset('{"a":"\\x"}')).toBe(7);
    expect(jsonErrorOffset('{"a":1')).toBe(6);
    expect(jsonErrorOffset('[' .repeat(5000))).toBeLessThanOrEqual(5000); // deep nesting: no stack overflow
  });
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
