import { mkdtempSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import forge from 'node-forge';
import { loadOrCreateCa, type CertificateAuthority } from '../../src/tls/ca.js';
import { drainOrClose } from './backpressure.js';
import { bedrockRoute } from './fake-bedrock.js';
import { cohereRoute } from './fake-cohere.js';
import { auxRoute } from './fake-aux-apis.js';
import { FAIL_MID_STREAM, HOLD_BEFORE_START, RESET_MID_STREAM, resetAfterWrites } from './fake-faults.js';
import { googleRoute } from './fake-google.js';
import { mediaRoute } from './fake-media-apis.js';
import { openaiFamilyRoute } from './fake-openai-family.js';
import { completionsRoute } from './fake-completions.js';
import { LeafCertificates } from '../../src/tls/leaf.js';
import { generateRsaKeyPair } from '../../src/tls/rsa-key.js';
import { randomSerialHex, signCertificatePem, utf8Field } from '../../src/tls/sign.js';

/** What the fake provider saw of one request, as it arrived on its socket. */
export interface SeenRequest {
  method: string;
  url: string;
  rawHeaders: string[];
  body: Buffer;
  /** The SNI name the client sent (false: none). */
  servername?: string | false;
  /** When the whole request had arrived (performance.now()). */
  at: number;
}

export interface FakeProvider {
  port: number;
  /** PEM file of the fake provider's own CA (what --upstream-ca gets). */
  caFile: string;
  ca: CertificateAuthority;
  seen: SeenRequest[];
  /** Gap between SSE events in ms. */
  eventGapMs: number;
  /** Bytes the /stream-bytes endpoint has managed to hand to its socket so far. */
  readonly streamedBytes: number;
  /** /stream-bytes answers whose socket closed before the stream was written out. */
  readonly streamsAborted: number;
  /** Connections accepted so far, and how many are open now. */
  readonly connections: { accepted: number; open: number };
  /** When set, every request is answered with this status in the provider's error shape (a 503, Anthropic's 529 overload). */
  failStatus: number | undefined;
  close(): Promise<void>;
}

export const OPENAI_TEXT = 'Hello from the fake provider — héllo wörld, 你好 🌍';
export const ANTHROPIC_TEXT = 'Bonjour from fake Claude — ça marche 🚀';

export interface FakeProviderOptions {
  hosts?: string[];
  tls?: boolean;
  /** Present certificates for this name whatever the client asks for (a certificate for another host). */
  certHost?: string;
  /** Clock the fake's leaf certificates are minted with (e.g. 400 days ago: an expired certificate). */
  certNow?: () => number;
  /** Present a self-signed certificate: a leaf for the main host signed by its own key, or the fake's CA certificate itself. */
  selfSigned?: 'leaf' | 'ca';
  /** Sign with this CA (e.g. another fake's) instead of a new one: saves a key generation. */
  ca?: CertificateAuthority;
}

/**
 * An HTTPS server that answers like api.openai.com and api.anthropic.com with their
 * documented wire formats (JSON and SSE), plus a few endpoints for failure tests.
 * Its certificate comes from its own CA, so the proxy must be told to trust it.
 */
export async function startFakeProvider(options: FakeProviderOptions = {}): Promise<FakeProvider> {
  const ca = options.ca ?? loadOrCreateCa(mkdtempSync(join(tmpdir(), 'llmtap-fake-'))).ca;
  const leafs = new LeafCertificates(ca, options.certNow ? { now: options.certNow } : {});
  const seen: SeenRequest[] = [];
  const sockets = new Set<Socket>();
  let accepted = 0;
  const state = { eventGapMs: 0, streamedBytes: 0, streamsAborted: 0, failStatus: undefined as number | undefined };

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      seen.push({ method: req.method ?? '', url: req.url ?? '', rawHeaders: req.rawHeaders, body, servername: (req.socket as { servername?: string | false }).servername, at: performance.now() });
      if (state.failStatus !== undefined) return providerError(res, state.failStatus, req.headers.host ?? '');
      void route(req, res, body, state).catch(() => res.destroy());
    });
  };
  const tls = options.tls ?? true;
  const server: Server | ReturnType<typeof createServer> = tls
    ? createHttpsServer(options.selfSigned
      ? (options.selfSigned === 'ca' ? { key: ca.keyPem, cert: ca.certPem } : selfSignedCert(options.hosts?.[0] ?? 'api.openai.com'))
      : { SNICallback: (name, cb) => cb(null, leafs.secureContextFor(options.certHost ?? name)), ...defaultCert(leafs, options.certHost ?? options.hosts?.[0] ?? 'api.openai.com') }, handler)
    : createServer(handler);
  server.on('connection', (s: Socket) => {
    accepted++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    caFile: ca.certPath,
    ca,
    seen,
    get eventGapMs() { return state.eventGapMs; },
    set eventGapMs(v: number) { state.eventGapMs = v; },
    get failStatus() { return state.failStatus; },
    set failStatus(v: number | undefined) { state.failStatus = v; },
    get streamedBytes() { return state.streamedBytes; },
    get streamsAborted() { return state.streamsAborted; },
    get connections() { return { accepted, open: sockets.size }; },
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}

/** A ClientHello without SNI still gets a certificate (for the provider's main name). */
function defaultCert(leafs: LeafCertificates, host: string): { key: string; cert: string } {
  return { key: leafs.keyPem, cert: leafs.certificatePemFor(host) };
}

/** A leaf for `host` that is its own issuer (what `openssl req -x509` makes). */
function selfSignedCert(host: string): { key: string; cert: string } {
  const { privateKeyPem, publicKeyPem } = generateRsaKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKeyPem);
  cert.serialNumber = randomSerialHex();
  cert.validity.notBefore = new Date(Date.now() - 24 * 60 * 60 * 1000);
  cert.validity.notAfter = new Date(Date.now() + 30 * 24 * 60 * 60 * 1000);
  cert.setSubject([utf8Field('commonName', host)]);
  cert.setIssuer([utf8Field('commonName', host)]);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: [{ type: 2, value: host }] },
  ]);
  return { key: privateKeyPem, cert: signCertificatePem(cert, privateKeyPem) };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function route(req: IncomingMessage, res: ServerResponse, body: Buffer, state: { eventGapMs: number; streamedBytes: number; streamsAborted: number }): Promise<void> {
  const gapMs = state.eventGapMs;
  const url = new URL(req.url ?? '/', 'https://fake');
  const json = safeJson(body);
  if (req.headers.origin !== undefined) {
    // A page in a browser calls the API (the Chromium client test): answer CORS as the real APIs do.
    res.setHeader('access-control-allow-origin', '*');
    if (req.method === 'OPTIONS') {
      res.writeHead(204, { 'access-control-allow-methods': 'GET, POST, OPTIONS', 'access-control-allow-headers': req.headers['access-control-request-headers'] ?? '*', 'access-control-max-age': '600' });
      return void res.end();
    }
  }
  if (req.headers['x-fake-mirror'] !== undefined) {
    // Answers with the request's own body, content type and coding: lets a test choose any answer bytes.
    const headers: Record<string, string | number> = { 'content-type': req.headers['content-type'] ?? 'application/octet-stream', 'content-length': body.length };
    if (req.headers['content-encoding']) headers['content-encoding'] = req.headers['content-encoding'];
    // X-Fake-Answer-Headers: a JSON object of extra answer headers (quota headers, say).
    Object.assign(headers, safeJson(Buffer.from(String(req.headers['x-fake-answer-headers'] ?? '{}'))));
    res.writeHead(200, headers);
    return void res.end(body);
  }
  if (body.includes(RESET_MID_STREAM)) resetAfterWrites(res);
  // X-Fake-Answer-Headers on an ordinary answer too (quota headers on a real SDK call, say): merged into its head.
  if (req.headers['x-fake-answer-headers'] !== undefined) {
    for (const [name, value] of Object.entries(safeJson(Buffer.from(String(req.headers['x-fake-answer-headers']))))) res.setHeader(name, String(value));
  }
  // Azure OpenAI: /openai/deployments/{name}/chat/completions and /openai/v1/chat/completions.
  if (url.pathname === '/v1/chat/completions' || /^\/openai\/(deployments\/[^/]+|v1)\/chat\/completions$/.test(url.pathname)) return openaiChat(res, json, gapMs);
  if (mediaRoute(req, res, url.pathname, body, json)) return;
  if (await openaiFamilyRoute(req, res, url.pathname, json)) return;
  if (await completionsRoute(res, url.pathname, json)) return;
  if (await googleRoute(req, res, url, json)) return;
  if (await bedrockRoute(req, res, url.pathname, json)) return;
  if (cohereRoute(res, url.pathname, json)) return;
  if (auxRoute(res, url.pathname, req.headers.host ?? '', json)) return;
  if (url.pathname === '/v1/messages') return anthropicMessages(res, json, gapMs);
  // Claude on Vertex AI: the model is in the path, the stream flag in the body.
  const vertexClaude = /\/publishers\/anthropic\/models\/([^/:]+):(?:stream)?rawPredict$/i.exec(url.pathname);
  if (vertexClaude) return anthropicMessages(res, { ...json, model: vertexClaude[1] }, gapMs);
  if (url.pathname.startsWith('/status/')) return providerError(res, Number(url.pathname.slice(8)), req.headers.host ?? '');
  if (url.pathname === '/gzip') {
    const payload = gzipSync(JSON.stringify(chatCompletion('gpt-4o-mini', OPENAI_TEXT)));
    res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': payload.length });
    return void res.end(payload);
  }
  if (url.pathname === '/echo') {
    // ?delay=MS holds the answer back, for tests that need answers of different durations;
    // &bodyDelay=MS sends the headers alone first and the body that much later.
    await sleep(Number(url.searchParams.get('delay') ?? 0));
    res.writeHead(200, { 'content-type': 'application/json' });
    const bodyDelay = Number(url.searchParams.get('bodyDelay') ?? 0);
    if (bodyDelay > 0) {
      res.flushHeaders();
      await sleep(bodyDelay);
    }
    return void res.end(JSON.stringify({ method: req.method, url: req.url, rawHeaders: req.rawHeaders, body: body.toString('base64') }));
  }
  if (url.pathname === '/redirect') {
    res.writeHead(307, { location: 'https://elsewhere.example/v1/chat/completions', 'content-length': 0 });
    return void res.end();
  }
  if (url.pathname === '/stream-bytes') {
    // A long event stream: `n` events of `size` bytes, written as fast as the socket takes them.
    const n = Number(url.searchParams.get('n') ?? 1000);
    const size = Number(url.searchParams.get('size') ?? 1024);
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const event = Buffer.from(`data: ${'x'.repeat(Math.max(0, size - 8))}\n\n`);
    for (let i = 0; i < n; i++) {
      const more = res.write(event);
      state.streamedBytes += event.length;
      if (!more) await drainOrClose(res);
      if (res.destroyed) return void state.streamsAborted++;
    }
    return void res.end();
  }
  if (url.pathname === '/reset-mid-stream') {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(`data: ${JSON.stringify(chatChunk('gpt-4o-mini', { content: 'partial ' }))}\n\n`);
    await sleep(50);
    return void req.socket.destroy();
  }
  res.writeHead(404, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ error: { message: `no route ${url.pathname}`, type: 'invalid_request_error', code: 'not_found' } }));
}

function safeJson(body: Buffer): Record<string, unknown> {
  try {
    const v = JSON.parse(body.toString('utf8')) as unknown;
    return v && typeof v === 'object' ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

const COMMON_HEADERS = {
  'x-request-id': 'req_fake_0001',
  'openai-processing-ms': '12',
  'X-Mixed-Case-Header': 'Kept As Sent',
  'set-cookie': ['__cf_bm=abc123secretcookie; path=/; HttpOnly', 'other=1; path=/'],
};

function chatCompletion(model: string, text: string, toolCall?: boolean): unknown {
  return {
    id: 'chatcmpl-fake1', object: 'chat.completion', created: 1_700_000_000, model,
    choices: [{
      index: 0,
      message: toolCall
        ? { role: 'assistant', content: null, tool_calls: [{ id: 'call_fake1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] }
        : { role: 'assistant', content: text, refusal: null },
      logprobs: null,
      finish_reason: toolCall ? 'tool_calls' : 'stop',
    }],
    usage: { prompt_tokens: 11, completion_tokens: 17, total_tokens: 28, prompt_tokens_details: { cached_tokens: 3 }, completion_tokens_details: { reasoning_tokens: 0 } },
    system_fingerprint: 'fp_fake',
  };
}

function chatChunk(model: string, delta: Record<string, unknown>, finish: string | null = null): unknown {
  return { id: 'chatcmpl-fake1', object: 'chat.completion.chunk', created: 1_700_000_000, model, system_fingerprint: 'fp_fake', choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] };
}

async function openaiChat(res: ServerResponse, body: Record<string, unknown>, gapMs: number): Promise<void> {
  const model = typeof body.model === 'string' ? body.model : 'gpt-4o-mini';
  const wantsTool = Array.isArray(body.tools) && body.tools.length > 0;
  if (model === 'does-not-exist') return providerError(res, 404, 'api.openai.com');
  if (!body.stream) {
    const payload = JSON.stringify(chatCompletion(model, OPENAI_TEXT, wantsTool));
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), ...COMMON_HEADERS });
    return void res.end(payload);
  }
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', ...COMMON_HEADERS });
  const send = async (payload: unknown): Promise<void> => {
    res.write(`data: ${typeof payload === 'string' ? payload : JSON.stringify(payload)}\n\n`);
    if (gapMs > 0) await sleep(gapMs);
  };
  await send(chatChunk(model, { role: 'assistant', content: '' }));
  if (JSON.stringify(body.messages ?? []).includes(FAIL_MID_STREAM)) {
    // OpenAI's mid-stream failure: an `error` object where the next chunk would be, the 200 long gone.
    await send(chatChunk(model, { content: 'Hello' }));
    await send({ error: { message: 'The server had an error while processing your request. Sorry about that!', type: 'server_error', param: null, code: null } });
    return void res.end();
  }
  if (wantsTool) {
    await send(chatChunk(model, { tool_calls: [{ index: 0, id: 'call_fake1', type: 'function', function: { name: 'get_weather', arguments: '' } }] }));
    for (const piece of ['{"ci', 'ty":"Pa', 'ris"}']) await send(chatChunk(model, { tool_calls: [{ index: 0, function: { arguments: piece } }] }));
    await send(chatChunk(model, {}, 'tool_calls'));
  } else {
    for (const piece of splitText(OPENAI_TEXT)) await send(chatChunk(model, { content: piece }));
    await send(chatChunk(model, {}, 'stop'));
  }
  const options = body.stream_options as { include_usage?: boolean } | undefined;
  if (options?.include_usage) {
    await send({ id: 'chatcmpl-fake1', object: 'chat.completion.chunk', created: 1_700_000_000, model, choices: [], usage: { prompt_tokens: 11, completion_tokens: 17, total_tokens: 28 } });
  }
  await send('[DONE]');
  res.end();
}

function splitText(text: string): string[] {
  const parts = text.split(/(?<= )/);
  return parts.length > 0 ? parts : [text];
}

async function anthropicMessages(res: ServerResponse, body: Record<string, unknown>, gapMs: number): Promise<void> {
  const model = typeof body.model === 'string' ? body.model : 'claude-sonnet-4-5';
  // Like a model in an agent loop: it calls a tool when offered one, and answers once the tool's result is back.
  const wantsTool = Array.isArray(body.tools) && body.tools.length > 0 && !lastMessageHasToolResult(body.messages);
  const headers = { 'request-id': 'req_fake_anthropic', 'anthropic-ratelimit-requests-remaining': '99' };
  // A prompt cached with `cache_control: {ttl: "1h"}` is written at the 1-hour TTL, which usage reports apart.
  const hour = JSON.stringify(body.messages ?? []).includes('"ttl":"1h"');
  // Offered the server-side web_search tool, the answer ran two searches (reported with the final usage).
  const searched = JSON.stringify(body.tools ?? []).includes('"web_search_');
  const searches = searched ? { server_tool_use: { web_search_requests: 2 } } : {};
  const usage = (output: number): object => (hour
    ? { input_tokens: 21, output_tokens: output, cache_read_input_tokens: 4, cache_creation_input_tokens: 3000, cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 3000 } }
    : { input_tokens: 21, output_tokens: output, cache_read_input_tokens: 4, cache_creation_input_tokens: 0 });
  if (!body.stream) {
    const content = wantsTool
      ? [{ type: 'text', text: 'Let me check.' }, { type: 'tool_use', id: 'toolu_fake1', name: 'get_weather', input: { city: 'Paris' } }]
      : [{ type: 'text', text: ANTHROPIC_TEXT }];
    const payload = JSON.stringify({
      id: 'msg_fake1', type: 'message', role: 'assistant', model, content,
      stop_reason: wantsTool ? 'tool_use' : 'end_turn', stop_sequence: null,
      usage: { ...usage(9), ...searches },
    });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), ...headers });
    return void res.end(payload);
  }
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', ...headers });
  if (JSON.stringify(body.messages ?? []).includes(HOLD_BEFORE_START)) {
    res.flushHeaders();
    await new Promise((resolve) => {
      res.once('close', resolve);
      setTimeout(resolve, 5000).unref();
    });
    return void res.end();
  }
  const send = async (event: string, data: unknown): Promise<void> => {
    res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    if (gapMs > 0) await sleep(gapMs);
  };
  await send('message_start', { type: 'message_start', message: { id: 'msg_fake1', type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage: usage(1) } });
  await send('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'thinking', thinking: '', signature: '' } });
  await send('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'The user greets; answer briefly.' } });
  await send('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'signature_delta', signature: 'EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds' } });
  await send('content_block_stop', { type: 'content_block_stop', index: 0 });
  await send('content_block_start', { type: 'content_block_start', index: 1, content_block: { type: 'text', text: '' } });
  if (JSON.stringify(body.messages ?? []).includes(FAIL_MID_STREAM)) {
    await send('content_block_delta', { type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: 'Bonjour' } });
    await send('error', { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } });
    return void res.end();
  }
  await send('ping', { type: 'ping' });
  for (const piece of splitText(ANTHROPIC_TEXT)) await send('content_block_delta', { type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: piece } });
  await send('content_block_stop', { type: 'content_block_stop', index: 1 });
  if (wantsTool) {
    await send('content_block_start', { type: 'content_block_start', index: 2, content_block: { type: 'tool_use', id: 'toolu_fake1', name: 'get_weather', input: {} } });
    for (const piece of ['{"city"', ': "Par', 'is"}']) await send('content_block_delta', { type: 'content_block_delta', index: 2, delta: { type: 'input_json_delta', partial_json: piece } });
    await send('content_block_stop', { type: 'content_block_stop', index: 2 });
  }
  await send('message_delta', { type: 'message_delta', delta: { stop_reason: wantsTool ? 'tool_use' : 'end_turn', stop_sequence: null }, usage: { output_tokens: 9, ...searches } });
  await send('message_stop', { type: 'message_stop' });
  res.end();
}

function providerError(res: ServerResponse, status: number, host: string): void {
  const payload = host.includes('anthropic')
    ? JSON.stringify({ type: 'error', error: { type: status === 429 ? 'rate_limit_error' : status === 529 ? 'overloaded_error' : status >= 500 ? 'api_error' : 'invalid_request_error', message: `fake error ${status}` } })
    : JSON.stringify({ error: { message: `fake error ${status}`, type: status >= 500 ? 'server_error' : 'invalid_request_error', param: null, code: status === 404 ? 'model_not_found' : null } });
  const headers: Record<string, string | number> = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), 'x-request-id': `req_err_${status}` };
  if (status === 429) headers['retry-after'] = '7';
  res.writeHead(status, headers);
  res.end(payload);
}

function lastMessageHasToolResult(messages: unknown): boolean {
  if (!Array.isArray(messages) || messages.length === 0) return false;
  const last = messages[messages.length - 1] as { content?: unknown } | null;
  return Array.isArray(last?.content) && last.content.some((b) => (b as { type?: unknown } | null)?.type === 'tool_result');
}

