/**
 * Fault list #26: bodies in a content coding llmtap could not undo, or that decode
 * past the cap, held API keys that anyone could recover by decompressing the
 * archive. Fault list #27: key-shaped or credential-named values in fields other
 * than bodies and known headers (model, path, stop reason, tool calls, thinking,
 * credential-named headers, query parameters, form fields and JSON keys, operator
 * patterns) reached the archive or the log in clear.
 *
 * Real traffic through the proxy; then a byte search of the SQLite file, its WAL,
 * every stored body decoded as an attacker would (gzip, br, deflate, zstd), the
 * decoded export and the captured log lines.
 */
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExportedExchange } from '../../src/archive/export.js';
import { eventually, exported } from '../helpers/archive.js';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';
import { capturingLogger, findSecrets, haystacks, sendRaw, zstd } from './secrets-helpers.js';

let fake: FakeProvider;
let tp: TestProxy;
let log: () => string;

beforeAll(async () => {
  fake = await startFakeProvider();
  const captured = capturingLogger();
  log = captured.text;
  tp = await startTestProxy(fake, { redact: ['EMPSECRET-[0-9]{6}'] }, { logger: captured.logger });
});
afterAll(async () => {
  await tp?.close();
  await fake?.close();
});

function record(id: string): Promise<ExportedExchange> {
  return eventually(() => {
    const r = exported(tp).find((e) => e.request.headers['x-test-id'] === id);
    if (!r) throw new Error(`${id} not recorded yet`);
    return r;
  }, 10_000);
}

/** A key of the given family whose distinctive middle is what the byte search looks for. */
const key = (prefix: string, middle: string): string => `${prefix}${middle}${'q'.repeat(32)}`;
const CHAT = (content: string, extra: Record<string, unknown> = {}): string => JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }], ...extra });
const JSON_HEADERS: Array<[string, string]> = [['Content-Type', 'application/json']];

async function expectNoSecrets(secrets: Record<string, string>): Promise<void> {
  tp.proxy.recorder.flush();
  await new Promise((r) => setTimeout(r, 300)); // pino flushes its buffered lines every 200 ms
  expect(findSecrets(secrets, haystacks(tp, log()))).toEqual([]);
}

describe('bodies llmtap cannot read whole are never stored encoded', () => {
  it('FAULT 26: zstd, a gzip bomb, a zstd bomb, an unknown coding and a cut-short zstd body each holding a key', async () => {
    const secrets = {
      zstdRequest: 'ZSTDREQMIDDLE1', zstdResponse: 'ZSTDRESMIDDLE2', gzipBomb: 'GZIPBOMBMIDDLE3',
      zstdBomb: 'ZSTDBOMBMIDDLE4', unknownCoding: 'UNKNOWNCODINGMID5', cutShort: 'CUTSHORTMIDDLE6',
    };
    const keys = Object.fromEntries(Object.entries(secrets).map(([k, m]) => [k, key('sk-proj-', m)])) as Record<keyof typeof secrets, string>;

    // A zstd request body (Codex CLI compresses requests this way): decoded, parsed, redacted.
    let res = await sendRaw(tp, 'api.openai.com', 'POST /v1/chat/completions HTTP/1.1', [...JSON_HEADERS, ['Content-Encoding', 'zstd'], ['X-Test-Id', 'zstd-req']], zstd(CHAT(`my key ${keys.zstdRequest}`)));
    expect(res.status).toMatch(/ 200 /);
    // A zstd answer (Claude Code accepts zstd): the fake mirrors the body and its coding back.
    const answer = JSON.stringify({ id: 'c1', object: 'chat.completion', model: 'gpt-4o-mini', choices: [{ index: 0, message: { role: 'assistant', content: `use ${keys.zstdResponse}` }, finish_reason: 'stop' }] });
    res = await sendRaw(tp, 'api.openai.com', 'POST /v1/chat/completions HTTP/1.1', [...JSON_HEADERS, ['Content-Encoding', 'zstd'], ['X-Fake-Mirror', '1'], ['X-Test-Id', 'zstd-res']], zstd(answer));
    expect(res.status).toMatch(/ 200 /);
    // Bombs: > 64 MiB once decoded, the key at the start.
    const bomb = (k: string): Buffer => Buffer.concat([Buffer.from(`{"messages":"${k} `), Buffer.alloc(65 << 20, 0x20)]);
    await sendRaw(tp, 'api.openai.com', 'POST /v1/chat/completions HTTP/1.1', [...JSON_HEADERS, ['Content-Encoding', 'gzip'], ['X-Test-Id', 'gzip-bomb']], gzipSync(bomb(keys.gzipBomb)));
    await sendRaw(tp, 'api.openai.com', 'POST /v1/chat/completions HTTP/1.1', [...JSON_HEADERS, ['Content-Encoding', 'zstd'], ['X-Test-Id', 'zstd-bomb']], zstd(bomb(keys.zstdBomb)));
    // A coding llmtap does not know; the bytes are gzip, which anyone can undo.
    await sendRaw(tp, 'api.openai.com', 'POST /v1/chat/completions HTTP/1.1', [...JSON_HEADERS, ['Content-Encoding', 'x-custom'], ['X-Test-Id', 'unknown']], gzipSync(CHAT(`key ${keys.unknownCoding}`)));
    // A zstd body cut short: the decodable prefix, with the key in it.
    const long = zstd(`${CHAT(`key ${keys.cutShort}`)} ${randomBytes(300_000).toString('base64')}`);
    await sendRaw(tp, 'api.openai.com', 'POST /v1/chat/completions HTTP/1.1', [...JSON_HEADERS, ['Content-Encoding', 'zstd'], ['X-Test-Id', 'cut-short']], long.subarray(0, Math.floor(long.length * 0.6)));

    const [zreq, zres, gbomb, zbomb, unknown, cut] = await Promise.all(['zstd-req', 'zstd-res', 'gzip-bomb', 'zstd-bomb', 'unknown', 'cut-short'].map(record));
    await expectNoSecrets(secrets);

    expect(zreq!.model).toBe('gpt-4o-mini'); // the parser read the zstd body
    expect(zreq!.request).toMatchObject({ body_stored: 'decoded', body_truncated: false, body: CHAT('my key [REDACTED]') });
    expect(zres!.response).toMatchObject({ body_stored: 'decoded', text: 'use [REDACTED]' });
    for (const bombed of [gbomb!, zbomb!]) {
      expect(bombed.request).toMatchObject({ body_stored: 'decoded_prefix', body_truncated: true, body_sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
      expect(bombed.request.body!.startsWith('{"messages":"[REDACTED] ')).toBe(true);
      expect(bombed.request.body!.length).toBeLessThanOrEqual(1 << 20);
    }
    expect(unknown!.request).toMatchObject({ body: null, body_stored: 'digest', body_sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(cut!.request).toMatchObject({ body_stored: 'decoded_prefix', body_truncated: true });
    expect(cut!.request.body!.startsWith(CHAT('key [REDACTED]').slice(0, -3))).toBe(true);
    expect(tp.proxy.server.listening).toBe(true);
  }, 60_000);
});

describe('every stored and logged field is redacted', () => {
  it('FAULT 27: key-shaped model, path segment, stop reason, thinking and tool calls; credential-named headers, query parameters, form fields and JSON keys; operator patterns', async () => {
    const modelKey = key('sk-proj-', 'MODELKEYMIDDLE');
    const pathKey = key('AIza', 'PATHKEYMIDDLE');
    const stopKey = key('sk-ant-api03-', 'STOPREASONMIDDLE');
    const thinkingKey = key('gsk_', 'THINKINGMIDDLE');
    const secrets = {
      modelKey: 'MODELKEYMIDDLE', pathKey: 'PATHKEYMIDDLE', stopKey: 'STOPREASONMIDDLE', thinkingKey: 'THINKINGMIDDLE',
      jsonApiKey: 'JSONAPIKEYPLAIN', jsonClientSecret: 'JSONCLIENTSECRETPLAIN', jsonPassword: 'JSONPASSWORDPLAIN', jsonNested: 'JSONNESTEDAPIKEYPLAIN',
      amzToken: 'AMZSECURITYTOKENPLAIN', amzCredential: 'AMZCREDENTIALPLAIN', tokenHeader: 'TOKENHEADERPLAIN', authTokenHeader: 'XAUTHTOKENPLAIN',
      querySig: 'QUERYSIGPLAIN', queryAmzSignature: 'QUERYAMZSIGPLAIN', queryClientSecret: 'QUERYCLIENTSECRETPLAIN',
      formRefresh: 'FORMREFRESHTOKENPLAIN', formSecret: 'FORMCLIENTSECRETPLAIN', formPassword: 'FORMPASSWORDPLAIN',
      toolPassword: 'TOOLARGPASSWORDPLAIN', operatorHeader: 'EMPSECRET-222222', operatorPath: 'EMPSECRET-111111',
      operatorAgent: 'EMPSECRET-333333', operatorTool: 'EMPSECRET-444444', operatorToolName: 'EMPSECRET-555555', operatorThinking: 'EMPSECRET-666666',
    };

    // A key-shaped model: stored in the model column and logged on the exchange line today.
    await sendRaw(tp, 'api.openai.com', 'POST /v1/chat/completions HTTP/1.1', [...JSON_HEADERS, ['X-Test-Id', 'model']], JSON.stringify({ model: modelKey, messages: [{ role: 'user', content: 'hi' }] }));
    // Keys in path segments (logged verbatim today), an operator pattern in the path too.
    await sendRaw(tp, 'api.openai.com', `POST /v1/projects/${pathKey}/chat/completions HTTP/1.1`, [...JSON_HEADERS, ['X-Test-Id', 'path']], CHAT('hi'));
    await sendRaw(tp, 'api.openai.com', `GET /v1/${secrets.operatorPath}/models?X-Amz-Signature=${secrets.queryAmzSignature}&sig=${secrets.querySig}&client_secret=${secrets.queryClientSecret}&limit=5 HTTP/1.1`, [['X-Test-Id', 'query']]);
    // Credential-named headers and JSON keys; operator patterns in a header and the User-Agent.
    await sendRaw(tp, 'api.openai.com', 'POST /v1/chat/completions HTTP/1.1', [
      ...JSON_HEADERS, ['X-Test-Id', 'names'], ['X-Amz-Security-Token', secrets.amzToken], ['X-Amz-Credential', secrets.amzCredential],
      ['Token', secrets.tokenHeader], ['X-Auth-Token', secrets.authTokenHeader], ['X-Employee', `id ${secrets.operatorHeader}`], ['User-Agent', `tool/1.0 (${secrets.operatorAgent})`],
    ], CHAT('hi', { api_key: secrets.jsonApiKey, client_secret: secrets.jsonClientSecret, metadata: { password: secrets.jsonPassword, apiKey: secrets.jsonNested } }));
    // A form body (OAuth refresh).
    await sendRaw(tp, 'api.openai.com', 'POST /oauth/token HTTP/1.1', [['Content-Type', 'application/x-www-form-urlencoded'], ['X-Test-Id', 'form']],
      `grant_type=refresh_token&refresh_token=${secrets.formRefresh}&client_secret=${secrets.formSecret}&password=${secrets.formPassword}`);
    // Parsed answer fields: an Anthropic stream whose stop reason, thinking and tool call carry secrets.
    const sse = [
      ['message_start', { type: 'message_start', message: { id: 'm1', type: 'message', role: 'assistant', model: 'claude-sonnet-4-5', content: [], usage: { input_tokens: 1, output_tokens: 1 } } }],
      ['content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'thinking', thinking: '' } }],
      ['content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: `the user pasted ${thinkingKey} and ${secrets.operatorThinking}` } }],
      ['content_block_stop', { type: 'content_block_stop', index: 0 }],
      ['content_block_start', { type: 'content_block_start', index: 1, content_block: { type: 'tool_use', id: 't1', name: `login_${secrets.operatorToolName}`, input: {} } }],
      ['content_block_delta', { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: JSON.stringify({ user: 'alice', password: secrets.toolPassword, note: secrets.operatorTool }) } }],
      ['content_block_stop', { type: 'content_block_stop', index: 1 }],
      ['message_delta', { type: 'message_delta', delta: { stop_reason: stopKey }, usage: { output_tokens: 5 } }],
      ['message_stop', { type: 'message_stop' }],
    ].map(([event, data]) => `event: ${event as string}\ndata: ${JSON.stringify(data)}\n\n`).join('');
    await sendRaw(tp, 'api.anthropic.com', 'POST /v1/messages HTTP/1.1', [['Content-Type', 'text/event-stream'], ['X-Fake-Mirror', '1'], ['X-Test-Id', 'parsed']], sse);

    const [model, path, query, names, form, parsed] = await Promise.all(['model', 'path', 'query', 'names', 'form', 'parsed'].map(record));
    await expectNoSecrets(secrets);

    // The shapes survive: JSON stays JSON, names stay, only values go.
    expect(model!.model).toBe('[REDACTED]');
    expect(path!.path).toBe('/v1/projects/[REDACTED]/chat/completions');
    expect(query!.path).toBe('/v1/[REDACTED]/models?X-Amz-Signature=[REDACTED]&sig=[REDACTED]&client_secret=[REDACTED]&limit=5');
    expect(names!.request.headers).toMatchObject({ 'x-amz-security-token': '[REDACTED]', 'x-amz-credential': '[REDACTED]', token: '[REDACTED]', 'x-auth-token': '[REDACTED]', 'x-employee': 'id [REDACTED]' });
    expect(names!.client.user_agent).toBe('tool/1.0 ([REDACTED])');
    expect(JSON.parse(names!.request.body!)).toMatchObject({ api_key: '[REDACTED]', client_secret: '[REDACTED]', metadata: { password: '[REDACTED]', apiKey: '[REDACTED]' } });
    expect(form!.request.body).toBe('grant_type=refresh_token&refresh_token=[REDACTED]&client_secret=[REDACTED]&password=[REDACTED]');
    expect(parsed!.response).toMatchObject({ stop_reason: '[REDACTED]', thinking: 'the user pasted [REDACTED] and [REDACTED]' });
    expect(parsed!.response!.tool_calls).toEqual([{ id: 't1', name: 'login_[REDACTED]', arguments: JSON.stringify({ user: 'alice', password: '[REDACTED]', note: '[REDACTED]' }) }]);
    const lines = log().split('\n').filter((l) => l.includes('"msg":"exchange"'));
    expect(lines.some((l) => l.includes('"model":"[REDACTED]"'))).toBe(true);
    expect(lines.some((l) => l.includes('"path":"/v1/projects/[REDACTED]/chat/completions"'))).toBe(true);
  }, 60_000);
});
