import { isIP } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConnectTo, resolveConnectTo } from '../../src/config.js';
import { hostMatches, patternError } from '../../src/host-pattern.js';
import { formatAuthority, parseAuthority } from '../../src/proxy/route.js';
import { params, pureRuns, timeoutFor } from './support.js';

const RUNS = pureRuns(1000);
const TIMEOUT = timeoutFor(RUNS, 0.5);

/** Characters that matter to authority and pattern syntax, plus a few that must never pass. */
const AUTHORITY_CHARS = 'abcxyzABCXYZ0123456789.-_:[]@/%* \t\r\n\u0000\u00e9\u212a';
const authorityChar = fc.constantFrom(...AUTHORITY_CHARS.split(''));
const latin1Char = fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c));

const label = fc.stringMatching(/^[a-z0-9_]([a-z0-9_-]{0,12}[a-z0-9_])?$/);
const domainArb = fc.oneof(fc.domain(), fc.array(label, { minLength: 1, maxLength: 4 }).map((ls) => ls.join('.')));
const ipv6Arb = fc.ipV6();
const hostArb = fc.oneof(
  fc.mixedCase(domainArb),
  domainArb.map((d) => `${d}.`),
  fc.ipV4(),
  ipv6Arb.map((ip) => `[${ip}]`),
  ipv6Arb,
  fc.string({ unit: authorityChar, maxLength: 24 }),
  fc.string({ unit: latin1Char, maxLength: 24 }),
);
const portText = fc.oneof(
  fc.integer({ min: 0, max: 70_000 }).map(String),
  fc.integer({ min: 1, max: 65_535 }).map((p) => `00${p}`),
  fc.stringMatching(/^[0-9]{0,7}$/),
  fc.string({ unit: authorityChar, maxLength: 6 }),
);
/** Mostly host:port shapes, with arbitrary text mixed in. */
const authorityText = fc.oneof(
  { arbitrary: fc.tuple(hostArb, portText).map(([h, p]) => `${h}:${p}`), weight: 6 },
  { arbitrary: fc.tuple(hostArb, portText, fc.string({ unit: authorityChar, maxLength: 4 })).map(([h, p, junk]) => `${h}${junk}:${p}`), weight: 1 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 40 }), weight: 2 },
  { arbitrary: fc.string({ unit: authorityChar, maxLength: 40 }), weight: 2 },
);

describe('parseAuthority (CONNECT targets)', () => {
  it('never throws, and whatever it accepts is well-formed and round-trips through formatAuthority', () => {
    fc.assert(fc.property(authorityText, (text) => {
      const a = parseAuthority(text);
      if (!a) return;
      expect(Number.isInteger(a.port) && a.port >= 1 && a.port <= 65_535).toBe(true);
      expect(a.host).not.toBe('');
      expect(a.host).toBe(a.host.toLowerCase());
      expect(a.host.endsWith('.')).toBe(false);
      expect(parseAuthority(formatAuthority(a.host, a.port))).toEqual(a);
    }), params(RUNS));
  }, TIMEOUT);

  it('accepts only printable ASCII hosts from a CONNECT line (Node hands the request target over as latin1)', () => {
    fc.assert(fc.property(fc.tuple(fc.string({ unit: latin1Char, maxLength: 30 }), portText), ([host, port]) => {
      const a = parseAuthority(`${host}:${port}`);
      if (a) expect(a.host).toMatch(/^[\x21-\x7e]+$/);
    }), params(RUNS));
  }, TIMEOUT);

  it('accepts every real host:port (domains, IPv4, bracketed IPv6) with the port as a number', () => {
    fc.assert(fc.property(fc.oneof(domainArb, fc.ipV4(), ipv6Arb), fc.integer({ min: 1, max: 65_535 }), (host, port) => {
      const text = isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
      const a = parseAuthority(text);
      expect(a).toBeDefined();
      expect(a!.port).toBe(port);
      expect(isIP(a!.host)).toBe(isIP(host));
    }), params(RUNS));
  }, TIMEOUT);
});

describe('host patterns (--intercept / --passthrough)', () => {
  const patternText = fc.oneof(
    fc.tuple(fc.constantFrom('', '*.', '*'), fc.oneof(domainArb, fc.ipV4()), fc.option(fc.integer({ min: 0, max: 70_000 }), { nil: undefined }))
      .map(([wild, host, port]) => `${wild}${host}${port === undefined ? '' : `:${port}`}`),
    ipv6Arb.map((ip) => `[${ip}]`),
    fc.tuple(ipv6Arb, fc.integer({ min: 1, max: 65_535 })).map(([ip, port]) => `[${ip}]:${port}`),
    fc.string({ unit: authorityChar, maxLength: 30 }),
    fc.string({ unit: 'binary', maxLength: 30 }),
  );
  const portArb = fc.option(fc.integer({ min: 0, max: 70_000 }), { nil: undefined });

  it('hostMatches and patternError never throw', () => {
    fc.assert(fc.property(patternText, fc.oneof(hostArb, fc.string({ unit: 'binary', maxLength: 30 })), portArb, (pattern, host, port) => {
      expect(typeof hostMatches(pattern, host, port)).toBe('boolean');
      const problem = patternError(pattern);
      expect(problem === undefined || typeof problem === 'string').toBe(true);
    }), params(RUNS));
  }, TIMEOUT);

  it('matching ignores ASCII case and a trailing dot on the host', () => {
    const asciiHost = fc.oneof(domainArb, fc.string({ unit: authorityChar, maxLength: 20 }).filter((s) => /^[\x00-\x7f]*$/.test(s)));
    fc.assert(fc.property(patternText.filter((p) => /^[\x00-\x7f]*$/.test(p)), asciiHost, portArb, (pattern, host, port) => {
      const m = hostMatches(pattern, host, port);
      expect(hostMatches(pattern.toUpperCase(), host.toLowerCase(), port)).toBe(m);
      expect(hostMatches(pattern.toLowerCase(), host.toUpperCase(), port)).toBe(m);
      // (A bracketed IPv6 literal takes no trailing dot.)
      if (!host.endsWith('.') && !host.endsWith(']')) expect(hostMatches(pattern, `${host}.`, port)).toBe(m);
    }), params(RUNS));
  }, TIMEOUT);

  it('exact, port and wildcard patterns mean what the README says', () => {
    fc.assert(fc.property(domainArb, label, fc.integer({ min: 1, max: 65_535 }), fc.integer({ min: 1, max: 65_535 }), (domain, sub, port, other) => {
      expect(patternError(domain)).toBeUndefined();
      expect(hostMatches(domain, domain, port)).toBe(true);
      expect(hostMatches(domain, domain.toUpperCase(), undefined)).toBe(true);
      expect(hostMatches(`${domain}:${port}`, domain, port)).toBe(true);
      expect(hostMatches(`${domain}:${port}`, domain, other)).toBe(port === other);
      expect(hostMatches(`*.${domain}`, `${sub}.${domain}`, port)).toBe(true);
      expect(hostMatches(`*.${domain}`, domain, port)).toBe(false);
      // A wildcard matches at a label boundary only.
      expect(hostMatches(`*.${domain}`, `${sub}${domain}`, port)).toBe(false);
    }), params(RUNS));
  }, TIMEOUT);

  it('a wildcard only ever matches hosts under its domain', () => {
    fc.assert(fc.property(domainArb, hostArb, (domain, host) => {
      const bare = host.toLowerCase().replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');
      if (hostMatches(`*.${domain}`, host)) expect(bare.endsWith(`.${domain.toLowerCase()}`)).toBe(true);
    }), params(RUNS));
  }, TIMEOUT);

  it('IPv6 patterns match with or without brackets', () => {
    fc.assert(fc.property(ipv6Arb, fc.integer({ min: 1, max: 65_535 }), (ip, port) => {
      expect(patternError(`[${ip}]`)).toBeUndefined();
      expect(hostMatches(`[${ip}]`, ip, port)).toBe(true);
      expect(hostMatches(`[${ip}]:${port}`, `[${ip}]`, port)).toBe(true);
      expect(hostMatches(ip, `[${ip.toUpperCase()}]`, port)).toBe(true);
    }), params(RUNS));
  }, TIMEOUT);

  it('a pattern patternError accepts can match some CONNECT target (a typo is an error, not a rule that never fires)', () => {
    fc.assert(fc.property(patternText, (pattern) => {
      if (patternError(pattern) !== undefined) return;
      const { host, port } = witness(pattern);
      const target = parseAuthority(formatAuthority(host, port));
      expect(target, `pattern ${JSON.stringify(pattern)} was accepted but no host:port can match it`).toBeDefined();
      expect(hostMatches(pattern, target!.host, target!.port)).toBe(true);
    }), params(RUNS));
  }, TIMEOUT);
});

/** The host:port a pattern is meant to match (its host, `x.` for a wildcard), read the way a user writes it. */
function witness(pattern: string): { host: string; port: number } {
  const p = pattern.toLowerCase();
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(p);
  let host = p;
  let port = 443;
  if (bracketed) {
    host = bracketed[1]!;
    if (bracketed[2]) port = Number(bracketed[2]);
  } else {
    const colon = p.lastIndexOf(':');
    if (colon > 0 && p.indexOf(':') === colon && /^\d+$/.test(p.slice(colon + 1))) {
      host = p.slice(0, colon);
      port = Number(p.slice(colon + 1));
    }
  }
  if (host.startsWith('*.')) host = `x${host.slice(1)}`;
  // A `*` inside a label stands for one or more characters of that label.
  return { host: host.replace(/\*/g, 'x'), port };
}

describe('parseConnectTo (--connect-to HOST:PORT:ADDR:PORT)', () => {
  const specText = fc.oneof(
    fc.array(fc.oneof(fc.string({ unit: authorityChar, maxLength: 12 }), fc.ipV6().map((ip) => `[${ip}]`), portText), { maxLength: 6 }).map((parts) => parts.join(':')),
    fc.string({ unit: authorityChar, maxLength: 40 }),
    fc.string({ unit: 'binary', maxLength: 40 }),
  );

  it('returns a rule or throws a ConfigError, nothing else', () => {
    fc.assert(fc.property(specText, (spec) => {
      let rule;
      try {
        rule = parseConnectTo(spec);
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        return;
      }
      for (const port of [rule.port, rule.toPort]) if (port !== undefined) expect(Number.isInteger(port) && port >= 1 && port <= 65_535).toBe(true);
      // Using the rule never throws either.
      resolveConnectTo([rule], 'api.openai.com', 443);
    }), params(RUNS));
  }, TIMEOUT);

  it('a well-formed rule parses to its parts and redirects exactly the matching host:port', () => {
    const ruleHost = fc.oneof(fc.constant(''), fc.mixedCase(domainArb), fc.ipV4(), ipv6Arb.map((ip) => `[${ip}]`));
    const rulePort = fc.option(fc.integer({ min: 1, max: 65_535 }), { nil: undefined });
    fc.assert(fc.property(ruleHost, rulePort, ruleHost, rulePort, fc.integer({ min: 1, max: 65_535 }), (host, port, toHost, toPort, otherPort) => {
      const rule = parseConnectTo(`${host}:${port ?? ''}:${toHost}:${toPort ?? ''}`);
      const unbracket = (h: string): string => h.replace(/^\[(.*)\]$/, '$1');
      expect(rule.host).toBe(host ? unbracket(host).toLowerCase() : undefined);
      expect(rule.port).toBe(port);
      expect(rule.toHost).toBe(toHost ? unbracket(toHost) : undefined);
      expect(rule.toPort).toBe(toPort);
      const matchHost = host ? unbracket(host) : 'anything.example';
      const matchPort = port ?? otherPort;
      expect(resolveConnectTo([rule], matchHost.toUpperCase(), matchPort)).toEqual({ host: rule.toHost ?? matchHost.toUpperCase(), port: rule.toPort ?? matchPort });
      if (port !== undefined && otherPort !== port) expect(resolveConnectTo([rule], matchHost, otherPort)).toEqual({ host: matchHost, port: otherPort });
    }), params(RUNS));
  }, TIMEOUT);
});
