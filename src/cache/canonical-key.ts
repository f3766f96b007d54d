import { hash as digest } from 'node:crypto';
import type { RawHeaders } from '../exchange.js';
import { isCredentialName, isCredentialParam } from '../redact/credential-names.js';

/**
 * Request fields that change from call to call without changing the answer, per
 * provider (dotted paths into the JSON body). They are left out of the cache key, so
 * two requests differing only in them share an entry. This is the one list: add a
 * field here, nowhere else. Request-id headers never enter the key (headers do not).
 *
 * - `user`, `safety_identifier`, `metadata` (OpenAI): who asks, abuse tracking, tags.
 * - `stream_options`: only whether a usage chunk is appended to the stream.
 * - `prompt_cache_key`, `store`: provider-side caching and retention, not the answer.
 * - `metadata.user_id` (Anthropic; Claude Code puts its session id there).
 */
export const VOLATILE_FIELDS: Readonly<Record<string, readonly string[]>> = {
  openai: ['user', 'safety_identifier', 'metadata', 'stream_options', 'prompt_cache_key', 'store', 'request_id'],
  azure: ['user', 'safety_identifier', 'metadata', 'stream_options', 'prompt_cache_key', 'store', 'request_id'],
  anthropic: ['metadata.user_id', 'request_id'],
  '*': ['request_id', 'requestId'],
};

/**
 * Keys the mock (`llmtap mock`, src/mock) also ignores, at any depth. They steer the
 * provider's prompt cache (Anthropic `cache_control` on system, tool and message blocks,
 * moved by agents to the newest message each turn; its `ttl` comes from the tool's config),
 * never the answer. The response cache keeps them in its key on purpose: its keys are
 * persisted in archives, and changing the key form would orphan every stored entry.
 */
export const REPLAY_VOLATILE_ANYWHERE: readonly string[] = ['cache_control'];

export interface CanonicalInput {
  provider?: string;
  method: string;
  host: string;
  /** Request target with its query (credential parameters are dropped here). */
  path: string;
  /** The body as parsed JSON, or undefined when it is not JSON. */
  json?: unknown;
  /** The raw (decoded) body, hashed when it is not JSON. */
  raw?: Buffer;
  /** Object keys left out wherever they occur (the mock passes REPLAY_VOLATILE_ANYWHERE). */
  ignoreAnywhere?: readonly string[];
}

/**
 * A request's canonical text: method, host, path with sorted non-credential query
 * parameters, and the body as JSON with keys sorted and volatile fields removed.
 * Two requests with the same canonical text ask the same question.
 */
export function canonicalRequest(input: CanonicalInput): string {
  // Most request targets have no query: nothing split or joined for them.
  const q = input.path.indexOf('?');
  const params = q < 0 ? undefined : queryOf(input.path, q).split('&').filter((p) => p !== '' && !isCredentialParam(decodeName(p.split('=')[0]!))).sort();
  const pathname = q < 0 ? input.path : input.path.slice(0, q);
  const target = params && params.length > 0 ? `${pathname}?${params.join('&')}` : pathname;
  let body: string;
  if (input.json !== undefined && input.json !== null && typeof input.json === 'object') {
    // Without keys to drop at any depth, the volatile fields are skipped while writing (no copy of the body).
    body = input.ignoreAnywhere
      ? canonicalJson(input.json, volatileFor(input.provider), input.ignoreAnywhere)
      : stableJson(input.json, volatileTreeFor(input.provider));
  } else if (input.raw && input.raw.length > 0) {
    body = opaqueDigest(input.raw);
  } else body = '';
  return `${input.method.toUpperCase()} ${input.host.toLowerCase()}${target}\n${body}`;
}

/** JSON as canonical text: keys sorted, without the dotted `volatile` paths and without `ignoreAnywhere` keys at any depth. */
export function canonicalJson(json: unknown, volatile: readonly string[], ignoreAnywhere: readonly string[]): string {
  return stableJson(withoutKeys(withoutVolatile(json, volatile), new Set(ignoreAnywhere)));
}

/** What stands for bytes that are not JSON in a canonical text: their sha256. */
export function opaqueDigest(bytes: Buffer | string): string {
  return `sha256:${digest('sha256', bytes, 'hex')}`;
}

const volatileByProvider = new Map<string, readonly string[]>();
export function volatileFor(provider: string | undefined): readonly string[] {
  const key = provider ?? '';
  let list = volatileByProvider.get(key);
  if (list === undefined) {
    list = [...(VOLATILE_FIELDS[key] ?? []), ...VOLATILE_FIELDS['*']!];
    // Only the providers VOLATILE_FIELDS names are kept: `provider` comes from the registry, but stay bounded.
    if (Object.hasOwn(VOLATILE_FIELDS, key)) volatileByProvider.set(key, list);
  }
  return list;
}

/**
 * The volatile paths as a tree for stableJson: a key mapped to null is left out, a key
 * mapped to a subtree has its object value written without that subtree's paths. Same
 * result as stableJson(withoutVolatile(value, paths)), remembered per provider.
 */
export type VolatileTree = ReadonlyMap<string, VolatileTree | null>;
const volatileTrees = new Map<string, VolatileTree>();
function volatileTreeFor(provider: string | undefined): VolatileTree {
  const key = provider ?? '';
  let tree = volatileTrees.get(key);
  if (tree === undefined) {
    tree = treeOf(volatileFor(provider));
    if (Object.hasOwn(VOLATILE_FIELDS, key)) volatileTrees.set(key, tree);
  }
  return tree;
}

function treeOf(paths: readonly string[]): VolatileTree {
  const tree = new Map<string, VolatileTree | null>();
  const nested = new Map<string, string[]>();
  for (const p of paths) {
    const dot = p.indexOf('.');
    if (dot < 0) tree.set(p, null);
    else nested.set(p.slice(0, dot), [...(nested.get(p.slice(0, dot)) ?? []), p.slice(dot + 1)]);
  }
  // A key dropped whole stays dropped (withoutVolatile deletes before it descends).
  for (const [head, rest] of nested) if (!tree.has(head)) tree.set(head, treeOf(rest));
  return tree;
}

/** A copy of `value` without the given dotted paths (the input is never changed). */
export function withoutVolatile(value: unknown, paths: readonly string[]): unknown {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return value;
  const out: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  const nested = new Map<string, string[]>();
  for (const p of paths) {
    const dot = p.indexOf('.');
    if (dot < 0) delete out[p];
    else nested.set(p.slice(0, dot), [...(nested.get(p.slice(0, dot)) ?? []), p.slice(dot + 1)]);
  }
  for (const [head, rest] of nested) if (head in out) out[head] = withoutVolatile(out[head], rest);
  return out;
}

/** A copy of `value` without the given object keys at any depth. */
export function withoutKeys(value: unknown, keys: ReadonlySet<string>): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => withoutKeys(v, keys));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) if (!keys.has(k)) out[k] = withoutKeys(v, keys);
  return out;
}

/**
 * JSON with object keys sorted at every depth (arrays keep their order: it means something).
 * Built by appending (no per-node arrays from map/filter/join): this runs over every
 * cached request's whole body, and those arrays were most of the cache key's garbage.
 */
export function stableJson(value: unknown, skip?: VolatileTree): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + stableJson(value[i]);
    return `${out}]`;
  }
  const obj = value as Record<string, unknown>;
  const keys = sortedKeys(obj);
  let out = '{';
  for (const k of keys) {
    const v = obj[k];
    if (v === undefined) continue;
    const sub = skip?.get(k);
    if (sub === null) continue;
    out += (out.length === 1 ? '' : ',') + JSON.stringify(k) + ':' + stableJson(v, sub);
  }
  return `${out}}`;
}

/**
 * An object's keys in the order Array.prototype.sort gives (UTF-16 code units): sorted
 * in place by insertion for the few keys a request object has, since sort() allocates
 * a work copy per call; larger objects use sort().
 */
function sortedKeys(obj: Record<string, unknown>): string[] {
  const keys = Object.keys(obj);
  if (keys.length > 16) return keys.sort();
  for (let i = 1; i < keys.length; i++) {
    const k = keys[i]!;
    let j = i - 1;
    while (j >= 0 && keys[j]! > k) {
      keys[j + 1] = keys[j]!;
      j--;
    }
    keys[j + 1] = k;
  }
  return keys;
}

/**
 * Whose answers an entry is: the proxy user and a digest of the credential the request
 * carried (Authorization, x-api-key, x-goog-api-key, `?key=` …). Two callers share an
 * entry only when both are the same; a caller without either shares with other
 * anonymous callers of the same request only. The credential itself is never kept:
 * only the final key digest (which mixes this in) is stored.
 */
export function credentialScope(headers: RawHeaders, path: string, user: string | undefined): string {
  const found: string[] = [];
  for (let i = 0; i + 1 < headers.length; i += 2) {
    const name = scopeName(headers[i]!);
    if (name !== null) found.push(`${name}=${headers[i + 1]!}`);
  }
  const q = path.indexOf('?');
  const query = q < 0 ? undefined : queryOf(path, q);
  if (query) for (const p of query.split('&')) if (isCredentialParam(decodeName(p.split('=')[0]!))) found.push(`?${p}`);
  // One-shot digest of the same bytes the streaming form hashed (stored keys stay valid):
  // a Hash object per request cost more than the hashing itself.
  let text = `user:${user ?? ''}\n`;
  for (const f of found.sort()) text += `${f}\n`;
  // One entry remembered: a client sends the same credential request after request,
  // and this digest plus the key's were the cache stage's largest cost. Only the last
  // one is held, in memory, as long as the request's own headers are.
  if (text !== lastScopeText) {
    lastScopeDigest = digest('sha256', text, 'hex');
    lastScopeText = text;
  }
  return lastScopeDigest;
}

let lastScopeText: string | undefined;
let lastScopeDigest = '';

/**
 * A header name's lower-case form when its value is a credential the scope includes,
 * else null; remembered per name as sent (a few dozen names in practice; the memo is
 * emptied past 512 so odd clients cannot grow it), since lower-casing and normalising
 * every header of every cached request was garbage.
 */
const scopeNames = new Map<string, string | null>();
function scopeName(raw: string): string | null {
  let name = scopeNames.get(raw);
  if (name === undefined) {
    const lower = raw.toLowerCase();
    name = lower === 'proxy-authorization' || lower === 'cookie' || !isCredentialName(lower) ? null : lower;
    if (scopeNames.size >= 512) scopeNames.clear();
    scopeNames.set(raw, name);
  }
  return name;
}

/** The cache key: a digest of the scope and the canonical request (hex, 64 characters). */
export function cacheKey(scope: string, canonical: string): string {
  return digest('sha256', `${scope}\n${canonical}`, 'hex');
}

/** What `path.split('?', 2)[1]` gives, for a path with a `?` at `q`: up to the next `?`, if any. */
function queryOf(path: string, q: number): string {
  const end = path.indexOf('?', q + 1);
  return end < 0 ? path.slice(q + 1) : path.slice(q + 1, end);
}

function decodeName(name: string): string {
  try {
    return decodeURIComponent(name.replace(/\+/g, ' '));
  } catch {
    return name;
  }
}
