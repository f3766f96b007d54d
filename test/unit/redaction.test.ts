import { decodeStoredBodies } from '../../src/archive/stored-bodies.js';
import type { ExchangeRow } from '../../src/recorder/db.js';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeExchange, type Captured } from '../../src/exchange.js';
import { silentLogger } from '../../src/log.js';
import { openArchive } from '../../src/recorder/db.js';
import { Recorder } from '../../src/recorder/recorder.js';
import { builtInRedactor, createRedactor } from '../../src/redact/redactor.js';

const { headers: redactHeaders, path: redactPath, text: redactText } = builtInRedactor;

function capture(bytes: Buffer | string, truncated = false): Captured {
  const buf = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
  return { bytes: buf, size: buf.length, truncated };
}

/** Each secret carries a distinctive middle part; that is what the byte search looks for. */
const MIDDLES = {
  bearer: 'OPENAIPROJMIDDLExq7',
  anthropic: 'ANTHROPICMIDDLEzz3',
  azure: 'AZUREKEYMIDDLE0f9e',
  google: 'GOOGLEMIDDLEk2',
  cookie: 'COOKIESESSIONMIDDLE',
  setCookie: 'SETCOOKIEMIDDLE',
  proxyPassword: 'PROXYPASSMIDDLE',
  pathKey: 'PATHKEYMIDDLE',
  promptKey: 'PROMPTKEYMIDDLE9',
  gzipKey: 'GZIPBODYMIDDLE4',
  outputKey: 'MODELOUTPUTMIDDLE',
  toolKey: 'TOOLARGMIDDLE',
  binaryKey: 'BINARYBODYMIDDLE',
  truncatedKey: 'TRUNCMID',
} as const;

const secrets = {
  bearer: `sk-proj-AAAAAAAA${MIDDLES.bearer}BBBBBBBBBBBBBBBBBBBBBBBB`,
  anthropic: `sk-ant-api03-${MIDDLES.anthropic}cccccccccccccccccccccccccccc-dddd`,
  azure: `0123456789${MIDDLES.azure}abcdef`,
  google: `AIza${MIDDLES.google}${'g'.repeat(35 - MIDDLES.google.length)}`,
  cookie: `session=${MIDDLES.cookie}; theme=dark`,
  setCookie: `sid=${MIDDLES.setCookie}; HttpOnly; Secure`,
  pathKey: `AIza${MIDDLES.pathKey}${'p'.repeat(35 - MIDDLES.pathKey.length)}`,
  promptKey: `sk-${MIDDLES.promptKey}eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee`,
  gzipKey: `gsk_${MIDDLES.gzipKey}ffffffffffffffffffffffffffff`,
  outputKey: `xai-${MIDDLES.outputKey}hhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhh`,
  toolKey: `hf_${MIDDLES.toolKey}iiiiiiiiiiiiiiiiiiiiiii`,
  binaryKey: `sk-svcacct-${MIDDLES.binaryKey}jjjjjjjjjjjjjjjjjjjj`,
};
const proxyAuth = `Basic ${Buffer.from(`alice:${MIDDLES.proxyPassword}`).toString('base64')}`;

/** Needles: every middle, plus the base64 form of the proxy credentials. */
const needles = [...Object.values(MIDDLES), proxyAuth.slice('Basic '.length)];

function plantSecrets(recorder: Recorder): void {
  const prompt = JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: `PLAINMARKER please debug: OPENAI_API_KEY=${secrets.promptKey} fails` }] });
  recorder.recordExchange(
    makeExchange({
      provider: 'openai',
      request: {
        method: 'POST',
        path: '/v1/chat/completions',
        headers: [
          'Authorization', `Bearer ${secrets.bearer}`,
          'x-api-key', secrets.anthropic,
          'api-key', secrets.azure,
          'X-Goog-Api-Key', secrets.google,
          'Cookie', secrets.cookie,
          'Proxy-Authorization', proxyAuth,
        ],
        body: capture(prompt),
      },
      response: {
        status: 200,
        headers: ['Set-Cookie', secrets.setCookie, 'Content-Encoding', 'gzip'],
        body: capture(gzipSync(`{"echo":"${secrets.gzipKey}"}`)),
        reassembled: {
          text: `Your key ${secrets.outputKey} looks wrong`,
          thinking: `user pasted ${secrets.outputKey}`,
          toolCalls: [{ id: 'c1', name: 'login', arguments: JSON.stringify({ token: secrets.toolKey }) }],
          events: 0,
        },
      },
    }),
  );
  recorder.recordExchange(
    makeExchange({
      provider: 'gemini',
      target: { host: 'generativelanguage.googleapis.com', port: 443, tls: true },
      request: { method: 'GET', path: `/v1beta/models?alt=json&key=${secrets.pathKey}&pageSize=5`, headers: [], body: capture('') },
    }),
  );
  // A multipart-ish binary upload (invalid UTF-8) with a key in a text part.
  const binary = Buffer.concat([Buffer.from([0xff, 0xfe, 0x00]), Buffer.from(`\r\nauth=${secrets.binaryKey}\r\n`), Buffer.from([0x80, 0x81])]);
  recorder.recordExchange(makeExchange({ request: { method: 'POST', path: '/upload', headers: [], body: capture(binary) } }));
  // A capture cut off in the middle of a key: less than 20 chars of key material survive the cut.
  recorder.recordExchange(
    makeExchange({ request: { method: 'POST', path: '/t', headers: [], body: { bytes: Buffer.from(`{"k":"sk-ant-${MIDDLES.truncatedKey}`), size: 5000, truncated: true } } }),
  );
}

function archiveBytes(file: string): { name: string; bytes: Buffer }[] {
  return [file, `${file}-wal`, `${file}-shm`].filter((f) => existsSync(f)).map((f) => ({ name: f, bytes: readFileSync(f) }));
}

function findSecrets(file: string): string[] {
  const found: string[] = [];
  for (const { name, bytes } of archiveBytes(file)) {
    for (const needle of needles) if (bytes.includes(needle)) found.push(`${needle} in ${name}`);
  }
  return found;
}

describe('no secret reaches the archive', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'llmtap-redact-'));
    file = join(dir, 'archive.db');
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('after close (checkpointed into the main file)', () => {
    const recorder = new Recorder(openArchive(file), { logger: silentLogger() });
    plantSecrets(recorder);
    recorder.close();
    expect(recorder.stats()).toMatchObject({ recorded: 4, lost: 0 });
    expect(findSecrets(file)).toEqual([]);
    // Positive control: the search does see what was stored.
    expect(archiveBytes(file).some(({ bytes }) => bytes.includes('PLAINMARKER'))).toBe(true);
  });

  it('before close, with the rows still in the WAL', () => {
    const archive = openArchive(file);
    const recorder = new Recorder(archive, { logger: silentLogger() });
    plantSecrets(recorder);
    recorder.flush();
    expect(existsSync(`${file}-wal`)).toBe(true);
    expect(readFileSync(`${file}-wal`).includes('PLAINMARKER')).toBe(true);
    expect(findSecrets(file)).toEqual([]);
    recorder.close();
  });

  it('keeps the redacted shape readable', () => {
    const archive = openArchive(file);
    const recorder = new Recorder(archive, { logger: silentLogger() });
    plantSecrets(recorder);
    recorder.flush();
    const rows = (archive.db.prepare('SELECT * FROM exchanges ORDER BY started_at').all() as ExchangeRow[]).map((r) => decodeStoredBodies(r, archive.db)) as (ExchangeRow & { request_body: Buffer })[];
    expect(JSON.parse(rows[0]!.request_headers)).toEqual([
      ['Authorization', '[REDACTED]'], ['x-api-key', '[REDACTED]'], ['api-key', '[REDACTED]'], ['X-Goog-Api-Key', '[REDACTED]'],
      ['Cookie', '[REDACTED]'], ['Proxy-Authorization', '[REDACTED]'],
    ]);
    expect(rows[0]!.request_body.toString()).toContain('OPENAI_API_KEY=[REDACTED] fails');
    expect(rows[0]!.response_text).toBe('Your key [REDACTED] looks wrong');
    expect(JSON.parse(rows[0]!.tool_calls!)).toEqual([{ id: 'c1', name: 'login', arguments: '{"token":"[REDACTED]"}' }]);
    expect(rows[1]!.path).toBe('/v1beta/models?alt=json&key=[REDACTED]&pageSize=5');
    expect(rows[2]!.request_body.subarray(0, 3)).toEqual(Buffer.from([0xff, 0xfe, 0x00])); // binary bytes kept
    expect(rows[2]!.request_body.includes('auth=[REDACTED]\r\n')).toBe(true);
    expect(rows[3]!.request_body.toString()).toBe('{"k":"[REDACTED]');
    recorder.close();
  });
});

describe('redaction helpers', () => {
  it('redacts AWS access key ids, GitHub and Slack tokens pasted into a prompt, and leaves look-alikes', () => {
    const aws = 'AKIAIOSFODNN7EXAMPLE';
    const github = `ghp_${'a1B2c3D4e5'.repeat(4)}`;
    const slack = 'xoxb-1234567890-abcdefABCDEF';
    expect(builtInRedactor.body(`keys: ${aws}, ASIAIOSFODNN7EXAMPLE; ${github} and ${slack}.`)).toBe('keys: [REDACTED], [REDACTED]; [REDACTED] and [REDACTED].');
    // Inside a longer word, or too short, they are not keys.
    expect(builtInRedactor.body('XAKIAIOSFODNN7EXAMPLE AKIAIOSFODNN7EXAMPLEX ghp_short xoxb-1')).toBe('XAKIAIOSFODNN7EXAMPLE AKIAIOSFODNN7EXAMPLEX ghp_short xoxb-1');
  });

  it('redacts the keys of other AI services, Bedrock API keys, LangSmith and GitLab tokens', () => {
    const b64 = (text: string) => Buffer.from(text).toString('base64');
    const keys = [
      `ABSK${b64('BedrockAPIKey-abcd-at-123456789012:' + 'k'.repeat(40))}`, // Bedrock long-term
      `bedrock-api-key-${b64('bedrock.amazonaws.com/?Action=CallWithBearerToken&X-Amz-Credential=ASIA')}`, // Bedrock short-term
      `fw_${'3ZxQ9'.repeat(5)}`, `pplx-${'a1B2'.repeat(12)}`, // Fireworks, Perplexity
      `lsv2_pt_${'0f'.repeat(16)}_${'9a'.repeat(5)}`, `glpat-${'x9Y'.repeat(7)}`, // LangSmith, GitLab
    ];
    for (const key of keys) {
      expect(builtInRedactor.body(`use ${key} now`)).toBe('use [REDACTED] now');
      expect(builtInRedactor.body(JSON.stringify({ content: `key:\n${key}` }))).toBe(JSON.stringify({ content: 'key:\n[REDACTED]' }));
    }
    // Ordinary words and code with those prefixes, and a run inside an image's base64, are not keys.
    const image = `data:image/png;base64,iVBORw0KGgo+ABSK${'QmVkcm9ja0FQSUtleS1'.repeat(5)}`;
    const prose = `fw_update_firmware(); pplx-api; lsv2_ok; glpat-x; bedrock-api-key-id; ${image}`;
    expect(builtInRedactor.body(prose)).toBe(prose);
  });

  it('redacts credential-named headers, query parameters, form fields and JSON keys', () => {
    expect(redactHeaders(['X-Amz-Security-Token', 'FQoGZXIvYXdzEPLAIN', 'Token', 'abc', 'x-auth-token', 'def', 'Accept', 'text/plain']))
      .toEqual(['X-Amz-Security-Token', '[REDACTED]', 'Token', '[REDACTED]', 'x-auth-token', '[REDACTED]', 'Accept', 'text/plain']);
    expect(redactPath('/b/o?X-Amz-Credential=AKIA%2F1&X-Amz-Signature=ab12&sig=zz&client_secret=c&max_tokens=5'))
      .toBe('/b/o?X-Amz-Credential=[REDACTED]&X-Amz-Signature=[REDACTED]&sig=[REDACTED]&client_secret=[REDACTED]&max_tokens=5');
    expect(builtInRedactor.body('grant_type=refresh_token&refresh_token=r1&client_secret=s%20x&scope=a', { form: true }))
      .toBe('grant_type=refresh_token&refresh_token=[REDACTED]&client_secret=[REDACTED]&scope=a');
    const json = JSON.stringify({ api_key: 'plain1', apiKey: 'plain2', nested: { password: 'p"w\\d', Secret: 42, token: true }, max_tokens: 100, args: JSON.stringify({ client_secret: 'in"ner', n: 1 }) });
    const out = builtInRedactor.body(json);
    expect(JSON.parse(out)).toEqual({ api_key: '[REDACTED]', apiKey: '[REDACTED]', nested: { password: '[REDACTED]', Secret: '[REDACTED]', token: '[REDACTED]' }, max_tokens: 100, args: JSON.stringify({ client_secret: '[REDACTED]', n: 1 }) });
    expect(builtInRedactor.body('{"password": "hunter2-cut', { truncated: true })).toBe('{"password": "[REDACTED]');
  });

  it('keeps the output tokens of logprobs, and still redacts a token credential beside them', () => {
    // OpenAI Chat/Responses logprobs and Gemini's logprobsResult name each output token `token`.
    const openai = JSON.stringify({ choices: [{ logprobs: { content: [{ token: 'Hello', logprob: -0.31, bytes: [72], top_logprobs: [{ token: ' Hi', logprob: -1.2, bytes: [32] }] }] } }] });
    expect(builtInRedactor.body(openai)).toBe(openai);
    const gemini = JSON.stringify({ logprobsResult: { chosenCandidates: [{ token: 'The', tokenId: 651, logProbability: -0.07 }] } });
    expect(builtInRedactor.body(gemini)).toBe(gemini);
    // A streamed chunk quoted inside a JSON string (one level of escaping) alike.
    const quoted = JSON.stringify({ args: openai });
    expect(builtInRedactor.body(quoted)).toBe(quoted);
    // A credential named token is still replaced, whatever follows it; a key's shape inside a logprob token is still caught.
    expect(JSON.parse(builtInRedactor.body(JSON.stringify({ token: 'tid=abc;exp=1', expires_at: 1, logprob: 0 })))).toEqual({ token: '[REDACTED]', expires_at: 1, logprob: 0 });
    expect(builtInRedactor.body(JSON.stringify({ token: secrets.bearer, logprob: -0.1 }))).not.toContain(secrets.bearer);
  });

  it('redactHeaders keeps names, order and other values', () => {
    expect(redactHeaders(['AUTHORIZATION', 'Basic abc', 'Accept', 'text/plain', 'X-Custom', `Bearer ${secrets.bearer}`, 'set-cookie', 'a=b']))
      .toEqual(['AUTHORIZATION', '[REDACTED]', 'Accept', 'text/plain', 'X-Custom', 'Bearer [REDACTED]', 'set-cookie', '[REDACTED]']);
  });

  it('redactPath redacts only credential parameters', () => {
    expect(redactPath('/v1/models')).toBe('/v1/models');
    expect(redactPath('/x?key=abc&keys=1&monkey=2')).toBe('/x?key=[REDACTED]&keys=1&monkey=2');
    expect(redactPath('/x?a=1&API_KEY=s3cr3t&api-key=z&apikey=y&access_token=t&token=u&b=%20'))
      .toBe('/x?a=1&API_KEY=[REDACTED]&api-key=[REDACTED]&apikey=[REDACTED]&access_token=[REDACTED]&token=[REDACTED]&b=%20');
    expect(redactPath('/x?%6Bey=abc')).toBe('/x?%6Bey=[REDACTED]');
    expect(redactPath('/x?flag&key=')).toBe('/x?flag&key=[REDACTED]');
  });

  it('redactText catches every key family', () => {
    for (const key of [secrets.bearer, secrets.anthropic, secrets.promptKey, secrets.gzipKey, secrets.outputKey, secrets.toolKey, secrets.binaryKey, secrets.google]) {
      expect(redactText(`before ${key} after`)).toBe('before [REDACTED] after');
      expect(redactText(`"${key}"`)).toBe('"[REDACTED]"');
    }
    expect(redactText('Authorization: Bearer abc.def-ghi_jkl~mno+pqr/stu=')).toBe('Authorization: Bearer [REDACTED]');
  });

  it('redactText leaves ordinary prose alone', () => {
    const prose = 'Use sk-learn (scikit-learn) or hf_hub; ask-me-anything; the task-abcdefghijklmnopqrstuvwxyz0123 id; a Bearer token; AIza is a prefix.';
    expect(redactText(prose)).toBe(prose);
    expect(redactText('')).toBe('');
  });

  it('redactText is fast on large text', () => {
    const big = 'The quick brown fox jumps over the lazy dog. sk-learn is fine. '.repeat(50_000) + secrets.bearer; // ~3 MB
    const start = performance.now();
    const out = redactText(big);
    const ms = performance.now() - start;
    expect(out.endsWith('[REDACTED]')).toBe(true);
    expect(ms).toBeLessThan(500);
  });
});

describe('operator redaction patterns (--redact)', () => {
  it('apply on top of the built-in key patterns, to bodies and reassembled text', async () => {
    const { exchangeToRow } = await import('../../src/recorder/rows.js');
    const redactor = createRedactor([/EMP-\d{6}/, /patient name: \w+/i]);
    const redact = redactor.text;
    expect(redact('id EMP-123456 and sk-proj-abcdefghijklmnopqrstuvwxyz0123 Patient Name: Alice')).toBe('id [REDACTED] and [REDACTED] [REDACTED]');
    const ex = makeExchange({ request: { body: { bytes: Buffer.from('{"content":"EMP-654321"}'), size: 24, truncated: false } } });
    ex.response = { status: 200, headers: [], body: { bytes: Buffer.from('ok EMP-111111'), size: 13, truncated: false }, reassembled: { text: 'EMP-222222', toolCalls: [], events: 0 } };
    const row = exchangeToRow(ex, redactor);
    expect(String(row.request_body)).toBe('{"content":"[REDACTED]"}');
    expect(String(row.response_body)).toBe('ok [REDACTED]');
    expect(row.response_text).toBe('[REDACTED]');
  });
});
