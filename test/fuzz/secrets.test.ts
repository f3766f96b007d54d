/**
 * Property: a planted secret never survives in any stored or logged output, whatever
 * field carries it and whatever coding its body arrived in. Secrets are key-shaped
 * strings, values of credential-named headers / query parameters / form fields / JSON
 * keys (any spelling: case, - or _), and matches of an operator --redact pattern.
 * "Output" is every column of the archive row and of its WebSocket message rows
 * (bodies read as is and through every decoder an attacker would try) and the
 * fields the exchange log line carries.
 */
import { execFileSync } from 'node:child_process';
import { brotliCompressSync, brotliDecompressSync, constants, deflateSync, gunzipSync, gzipSync, inflateSync } from 'node:zlib';
import fc from 'fast-check';
import { decompress as zstdDecompress } from 'fzstd';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeExchange, type Exchange, type WebSocketCapture } from '../../src/exchange.js';
import { exchangeToRow, wsMessageToRow } from '../../src/recorder/rows.js';
import { createRedactor } from '../../src/redact/redactor.js';
import { caseHook, params, pureRuns, timeoutFor } from './support.js';
import { zstdMany } from './zstd-cli.js';

const RUNS = pureRuns(300);
/** Each bomb decodes 64 MiB (~1 s): 8 by default, up to 40 with FUZZ_RUNS. */
const BOMB_RUNS = Math.min(pureRuns(8), 40);
// About 1.6 ms a case here; the slack is for a machine shared with other work (a long run must not die of its timeout)
const TIMEOUT = timeoutFor(RUNS, 10);
const redactor = createRedactor([/EMPSECRET-\d{6}/]);

/** Distinctive markers: each case plants one, and the search looks for it. */
const markArb = fc.stringMatching(/^[A-Z]{4}[0-9]{8}$/).map((m) => `MK${m}`);
const keyChars = fc.stringMatching(/^[A-Za-z0-9_-]{24,40}$/);
const keyShaped = fc.tuple(fc.constantFrom('sk-', 'sk-proj-', 'sk-ant-api03-', 'gsk_', 'xai-', 'hf_', 'AIza'), keyChars)
  .map(([prefix, rest]) => (mark: string) => `${prefix}${mark}${rest.replace(/[-_]/g, prefix === 'gsk_' || prefix === 'xai-' || prefix === 'hf_' ? 'x' : '$&')}`.padEnd(prefix.length + 40, 'z'));
/** A credential name as some client might spell it. */
const credentialName = fc.tuple(
  fc.constantFrom(['x', 'amz', 'security', 'token'], ['x', 'amz', 'signature'], ['x', 'amz', 'credential'], ['api', 'key'], ['access', 'token'], ['refresh', 'token'],
    ['client', 'secret'], ['password'], ['secret'], ['token'], ['sig'], ['x', 'auth', 'token'], ['github', 'token'], ['db', 'password'], ['openai', 'api', 'key']),
  fc.constantFrom('-', '_', ''), fc.constantFrom('lower', 'upper', 'camel'),
).map(([words, sep, style]) => {
  if (style === 'camel') return words.map((w, i) => (i === 0 ? w : w[0]!.toUpperCase() + w.slice(1))).join('');
  const name = words.join(sep);
  return style === 'upper' ? name.toUpperCase() : name;
});
/** Text around a credential's value inside a JSON string: quotes, escapes, unicode. */
const around = fc.string({ unit: fc.constantFrom('a', ' ', '"', '\\', '\n', 'é', '/', ':', '{', '}', ','), maxLength: 6 });

type Coding = 'identity' | 'gzip' | 'br' | 'deflate' | 'zstd' | 'x-unknown';
const codingArb = fc.constantFrom<Coding>('identity', 'gzip', 'br', 'deflate', 'zstd', 'x-unknown');

/** zstd bodies come from a pool compressed in one run of Debian's CLI (zstd-cli.ts), keyed by their bytes. */
const zstdPool = new Map<string, Buffer>();
function makeZstdPool(bodies: Buffer[]): void {
  zstdMany(bodies).forEach((wire, i) => zstdPool.set(bodies[i]!.toString('latin1'), wire));
}

function encode(coding: Coding, body: Buffer): Buffer {
  switch (coding) {
    case 'identity': return body;
    case 'gzip': case 'x-unknown': return gzipSync(body);
    case 'br': return brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 4 } });
    case 'deflate': return deflateSync(body);
    case 'zstd': {
      // Pooled bodies were compressed in one run of the CLI; any other (the bombs) gets its own run.
      return zstdPool.get(body.toString('latin1')) ?? execFileSync('zstd', ['-q', '-1', '-c'], { input: body, maxBuffer: 1 << 30 });
    }
  }
}

function readings(bytes: Buffer): string[] {
  const out = [bytes.toString('latin1')];
  for (const decode of [gunzipSync, brotliDecompressSync, inflateSync, (b: Buffer) => Buffer.from(zstdDecompress(b))]) {
    try {
      out.push(decode(bytes).toString('latin1'));
    } catch {
      // not this coding
    }
  }
  return out;
}

/** Everything stored or logged for the exchange. */
function outputs(ex: Exchange): string[] {
  const rows: object[] = [exchangeToRow(ex, redactor), ...(ex.websocket?.messages ?? []).map((m) => wsMessageToRow(ex.id, m, redactor))];
  const out: string[] = [];
  for (const row of rows) {
    for (const value of Object.values(row)) {
      if (Buffer.isBuffer(value)) out.push(...readings(value));
      else if (typeof value === 'string') out.push(value);
    }
  }
  // The exchange log line (handle-exchange.ts): host, path, model, tool.
  const model = ex.response?.reassembled?.model ?? ex.request.model;
  out.push(redactor.logPath(ex.request.path), redactor.text(ex.target.host), model === undefined ? '' : redactor.text(model));
  if (ex.tool) out.push(redactor.text(ex.tool.name));
  return out;
}

const where = fc.constantFrom('model', 'path-segment', 'stop-reason', 'tool-name', 'tool-args', 'thinking', 'text', 'header', 'user-agent', 'body',
  'client-user', 'client-label', 'tool-identity', 'agent', 'quota', 'ws-message');
const how = fc.constantFrom('key-shaped', 'operator', 'json-key', 'json-key-escaped', 'json-key-number', 'header-name', 'query', 'form');

const caseArb = fc.record({
  mark: markArb, makeKey: keyShaped, name: credentialName, left: around, right: around, field: where, kind: how, coding: codingArb,
  cutAt: fc.option(fc.double({ min: 0.05, max: 0.95, noNaN: true }), { nil: undefined }), captureCut: fc.boolean(),
});
type Case = typeof caseArb extends fc.Arbitrary<infer C> ? C : never;

interface Planted {
  secret: string;
  /** What the search looks for. */
  needle: string;
  /** Free-text fields can only be redacted for what a secret looks like (a key, an operator pattern). */
  free: boolean;
  body: Buffer;
}

function plant(c: Case): Planted {
  const digits = String(100000 + (Number.parseInt(c.mark.slice(-6), 10) % 900000));
  const number = `9${digits}${c.mark.slice(2).replace(/\D/g, '')}`;
  const secret = c.kind === 'key-shaped' ? c.makeKey(c.mark) : c.kind === 'operator' ? `EMPSECRET-${digits}` : c.mark;
  const needle = c.kind === 'operator' ? secret : c.kind === 'json-key-number' ? number : c.mark;
  const free = c.kind === 'key-shaped' || c.kind === 'operator';
  return { secret, needle, free, body: Buffer.from(bodyText(c, secret, free, number)) };
}

function bodyText(c: Case, value: string, free: boolean, number: string): string {
  switch (c.kind) {
    case 'json-key': return JSON.stringify({ model: 'm', [c.name]: `${c.left}${value}${c.right}`, note: 'x' });
    case 'json-key-escaped': return JSON.stringify({ tool: JSON.stringify({ [c.name]: `${c.left}${value}${c.right}`, n: 1 }) });
    case 'json-key-number': return `{"model":"m","${c.name}": ${number}}`;
    case 'form': return `a=1&${encodeURIComponent(c.name)}=${value}&b=2`;
    default: return JSON.stringify({ model: 'm', messages: [{ role: 'user', content: `${c.left} ${free ? value : 'nothing'} ${c.right}` }] });
  }
}

function exchangeFor(c: Case, p: Planted): Exchange {
  const { secret, free } = p;
  const at = (f: Case['field']): boolean => free && c.field === f;
  const ex = makeExchange({ provider: 'anthropic', api: 'messages', request: { method: 'POST', path: '/v1/messages', headers: [] } });
  const headers: string[] = ['Content-Type', c.kind === 'form' ? 'application/x-www-form-urlencoded' : 'application/json'];
  if (c.kind === 'header-name') headers.push(c.name, `${c.left.replace(/[\r\n]/g, '')}${secret}`);
  else if (at('header')) headers.push('X-Custom', `v ${secret}`);
  if (at('user-agent')) headers.push('User-Agent', `tool/1 (${secret})`);
  if (c.kind === 'query') ex.request.path = `/v1/x?a=1&${encodeURIComponent(c.name)}=${secret}&b=2`;
  else if (at('path-segment')) ex.request.path = `/v1/p/${secret}/q`;
  if (at('model')) ex.request.model = secret;
  if (at('client-user')) ex.client.user = `u:${secret}`;
  if (at('client-label')) ex.client.label = `run ${secret}`;
  if (at('tool-identity')) ex.tool = { name: `cli/${secret}`, version: `1.0 (${secret})` };
  if (at('agent')) ex.agent = { sessionId: secret, threadId: `t.${secret}`, clientRequestId: `${c.left} ${secret}${c.right}` };
  if (at('quota')) ex.quota = { openai: { 'limit-requests': 10, 'reset-requests': `${c.left} ${secret}` } };
  let wire = encode(c.coding, p.body);
  if (c.coding !== 'identity') headers.push('Content-Encoding', c.coding);
  if (c.cutAt !== undefined) wire = wire.subarray(0, Math.floor(wire.length * c.cutAt));
  // Identity bytes cut short are only a capture cut (marked); an encoded body may also arrive cut short unmarked.
  const marked = c.cutAt !== undefined && (c.captureCut || c.coding === 'identity');
  ex.request.headers = headers;
  ex.request.body = { bytes: wire, size: wire.length + (marked ? 10 : 0), truncated: marked };
  const named = c.kind.startsWith('json-key');
  const toolJson = named ? p.body.toString() : JSON.stringify({ arg: `${c.left} ${secret}${c.right}` });
  ex.response = {
    status: 200, headers: [], body: { bytes: Buffer.alloc(0), size: 0, truncated: false },
    reassembled: {
      text: at('text') ? `see ${secret}.` : 'ok',
      ...(at('thinking') ? { thinking: `${c.left} ${secret}${c.right}` } : {}),
      ...(at('stop-reason') ? { stopReason: secret } : {}),
      toolCalls: at('tool-name') ? [{ id: 't', name: `fn.${secret}`, arguments: '{}' }] : c.field === 'tool-args' && (free || named) ? [{ id: 't', name: 'fn', arguments: toolJson }] : [],
      events: 0,
    },
  };
  // WebSocket messages carry JSON (credential keys) or free text, as text and as binary frames, maybe cut short.
  if (c.field === 'ws-message' && (free || named)) ex.websocket = wsCapture(c, named ? p.body : Buffer.from(JSON.stringify({ type: 'input', text: `${c.left} ${secret}${c.right}` })));
  return ex;
}

function wsCapture(c: Case, payload: Buffer): WebSocketCapture {
  const truncated = c.cutAt !== undefined;
  const bytes = truncated ? payload.subarray(0, Math.floor(payload.length * c.cutAt!)) : payload;
  const base = { direction: 'client' as const, at: 0, size: payload.length, compressed: false, truncated };
  return {
    messages: [
      { ...base, seq: 0, opcode: 1, text: new TextDecoder().decode(bytes, { stream: truncated }) },
      { ...base, seq: 1, opcode: 2, base64: bytes.toString('base64') },
    ],
    count: 2, bytesUp: 2 * payload.length, bytesDown: 0,
  };
}

describe('no planted secret survives', () => {
  const pooled: Case[] = [];
  beforeAll(() => {
    // zstd cases: as many distinct bodies as a long run can use well, made in one CLI run.
    const seed = Number(process.env.FUZZ_SEED ?? 42);
    pooled.push(...fc.sample(caseArb.map((c) => ({ ...c, coding: 'zstd' as const })), { numRuns: Math.min(2000, Math.max(50, RUNS / 50)), seed }));
    makeZstdPool(pooled.map((c) => plant(c).body));
  });

  it('in any field, credential name spelling or body coding (cut short or not)', async () => {
    const cases = fc.oneof(
      { arbitrary: caseArb.filter((c) => c.coding !== 'zstd'), weight: 5 },
      { arbitrary: fc.tuple(fc.constantFrom(...pooled), caseArb).map(([z, other]) => ({ ...z, cutAt: other.cutAt, captureCut: other.captureCut })), weight: 1 },
    );
    const step = caseHook('secrets', RUNS);
    await fc.assert(fc.asyncProperty(cases, async (c) => {
      await step();
      const planted = plant(c);
      for (const text of outputs(exchangeFor(c, planted))) {
        expect(text.includes(planted.needle), `${c.kind}/${c.field}/${c.coding}${c.cutAt === undefined ? '' : ` cut ${c.cutAt}`}: ${JSON.stringify(text.slice(0, 300))}`).toBe(false);
      }
    }), params(RUNS));
  }, TIMEOUT);

  it('in bodies that decode past the 64 MiB cap (gzip, br, deflate, zstd bombs with the secret at the start)', () => {
    const key = 'sk-proj-BOMBMARKabcdefghijklmnopqrstuvwxyz';
    const payload = Buffer.concat([Buffer.from(`{"password":"PWBOMBMARK","k":"${key}" `), Buffer.alloc(65 << 20, 0x20)]);
    const bombs = (['gzip', 'br', 'deflate', 'zstd'] as const).map((c) => [c, encode(c, payload)] as const);
    fc.assert(fc.property(fc.constantFrom(...bombs), fc.option(fc.double({ min: 0.5, max: 1, noNaN: true }), { nil: undefined }), ([coding, wire], cut) => {
      const bytes = cut === undefined ? wire : wire.subarray(0, Math.floor(wire.length * cut));
      const ex = makeExchange({ request: { headers: ['Content-Encoding', coding], body: { bytes, size: bytes.length, truncated: false } } });
      const row = exchangeToRow(ex, redactor);
      expect(row.request_body_stored).toBe('decoded_prefix');
      for (const text of outputs(ex)) {
        expect(text.includes('BOMBMARK'), coding).toBe(false);
      }
    }), params(BOMB_RUNS));
  }, timeoutFor(BOMB_RUNS, 1500));
});
