import { isIP } from 'node:net';
import type { MatchFacts, MatchSpec } from './types.js';

/** A compiled `match`: one test per field given, all must pass. Built once per policy load. */
export type Matcher = (facts: MatchFacts) => boolean;

export class RuleError extends Error {
  constructor(readonly path: (string | number)[], message: string) {
    super(message);
  }
}

/** `['rules', 2, 'match', 'model']` → `rules[2].match.model`, as messages name a key. */
export function dotted(path: readonly (string | number)[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${p}` : p;
  return out;
}

/** A match condition's values: one value or a list in the file, always a list here (undefined: no condition). */
export const matchValues = (v: string | string[] | undefined): string[] | undefined => (v === undefined ? undefined : Array.isArray(v) ? v : [v]);

/** `*` any run of characters, `?` one; everything else literal; case-insensitive (model and host names). */
export function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 'i');
}

/** A field's test: any of `values` (globs) matches; an absent fact matches none. */
export function globs(values: string[]): (s: string | undefined) => boolean {
  const exact = new Set<string>();
  const patterns: RegExp[] = [];
  for (const v of values) {
    if (/[*?]/.test(v)) patterns.push(globToRegExp(v));
    else exact.add(v.toLowerCase());
  }
  return (s) => s !== undefined && (exact.has(s.toLowerCase()) || patterns.some((re) => re.test(s)));
}

interface Cidr {
  v6: boolean;
  bits: bigint;
  prefix: number;
}

function ipToBig(ip: string): { v6: boolean; value: bigint } | undefined {
  const v4mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (v4mapped) ip = v4mapped[1]!;
  const kind = isIP(ip);
  if (kind === 4) return { v6: false, value: ip.split('.').reduce((acc, o) => (acc << 8n) | BigInt(Number(o)), 0n) };
  if (kind !== 6) return undefined;
  const [head = '', tail] = ip.split('::');
  const parse = (s: string): string[] => (s ? s.split(':') : []);
  const h = parse(head);
  const t = tail === undefined ? [] : parse(tail);
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return { v6: true, value: groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n) };
}

/** `10.0.0.0/8`, `::1`, `192.168.1.7`: an exact address is a /32 (/128). */
export function parseCidr(spec: string): Cidr | undefined {
  const [addr = '', prefixText] = spec.split('/');
  const ip = ipToBig(addr);
  if (!ip) return undefined;
  const width = ip.v6 ? 128 : 32;
  const prefix = prefixText === undefined ? width : Number(prefixText);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > width || (prefixText !== undefined && !/^\d+$/.test(prefixText))) return undefined;
  const shift = BigInt(width - prefix);
  return { v6: ip.v6, bits: ip.value >> shift, prefix };
}

function cidrs(values: string[], path: (string | number)[]): (s: string | undefined) => boolean {
  const compiled = values.map((v, i) => {
    const c = parseCidr(v);
    if (!c) throw new RuleError(values.length > 1 ? [...path, i] : path, `"${v}" is not an IP address or CIDR`);
    return c;
  });
  return (s) => {
    const ip = s === undefined ? undefined : ipToBig(s);
    if (!ip) return false;
    const width = ip.v6 ? 128 : 32;
    return compiled.some((c) => c.v6 === ip.v6 && ip.value >> BigInt(width - c.prefix) === c.bits);
  };
}

const FIELDS = ['provider', 'host', 'path', 'api', 'model', 'tool', 'client', 'user', 'team', 'session'] as const;

/** Compiles a rule's match; globs and CIDRs are parsed here once, never per request. */
export function compileMatch(spec: MatchSpec | undefined, path: (string | number)[]): Matcher {
  const tests: ((f: MatchFacts) => boolean)[] = [];
  for (const field of FIELDS) {
    const values = matchValues(spec?.[field]);
    if (!values) continue;
    if (field === 'client') {
      const test = cidrs(values, [...path, field]);
      tests.push((f) => test(f.client));
    } else if (field === 'path') {
      // Paths match without their query string.
      const test = globs(values);
      tests.push((f) => test(f.path.split('?')[0]));
    } else {
      const test = globs(values);
      tests.push((f) => test(f[field]));
    }
  }
  if (tests.length === 0) return () => true;
  if (tests.length === 1) return tests[0]!;
  return (f) => tests.every((t) => t(f));
}
