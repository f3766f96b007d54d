import { describe, expect, it } from 'vitest';
import { makeExchange } from '../../src/exchange.js';
import { BUILT_IN_DETECTORS } from '../../src/policy/detectors.js';
import { PolicyBuckets } from '../../src/policy/evaluate.js';
import { loadPolicyText } from '../../src/policy/load.js';
import { Placeholders } from '../../src/policy/redact-body.js';
import { readUploadForm, redactForm, rewriteForm } from '../../src/policy/redact-form.js';
import { simulatePolicy } from '../../src/policy/simulate.js';
import { applyPolicy } from '../../src/policy/stage.js';
import { exchangeToRow } from '../../src/recorder/rows.js';
import { multipartFields } from '../../src/providers/multipart-fields.js';

const all = Object.values(BUILT_IN_DETECTORS);
const B = 'llmtap-b0undary';
const TYPE = `multipart/form-data; boundary=${B}`;
const KEY = 'sk-proj-abcdefghijklmnopqrstuvwxyz0123';

/** A file's bytes: binary, with a key-shaped string and CRLFs of its own, and no delimiter. */
const FILE = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0xff]), Buffer.from(`\r\n${KEY} ann@corp.example\r\n\r\n`), Buffer.from([0xfe, 0x00])]);

const text = (name: string, value: string, disposition = `name="${name}"`) => Buffer.from(`--${B}\r\nContent-Disposition: form-data; ${disposition}\r\n\r\n${value}\r\n`);
const file = (name: string, bytes: Buffer) => Buffer.concat([Buffer.from(`--${B}\r\nContent-Disposition: form-data; name="${name}"; filename="cat.png"\r\nContent-Type: image/png\r\n\r\n`), bytes, Buffer.from('\r\n')]);
const upload = (...parts: Buffer[]) => Buffer.concat([...parts, Buffer.from(`--${B}--\r\n`)]);

function redacted(body: Buffer, apply = true): { out: Buffer | undefined; hits: ReturnType<typeof redactForm> } {
  const form = readUploadForm(body, TYPE)!;
  const hits = redactForm(form, all, new Placeholders(), apply);
  return { out: rewriteForm(form), hits };
}

describe('an upload\'s text fields, redacted in place', () => {
  it('replaces in every text field, the same value with the same placeholder, and leaves parameters, file parts and the boundary as sent', () => {
    const body = upload(text('model', 'gpt-image-1'), text('prompt', `a hat for ann@corp.example, key ${KEY}`), file('image', FILE), text('user', 'ann@corp.example'), text('size', '1024x1024'));
    const { out, hits } = redacted(body);
    expect(hits).toEqual([{ detector: 'api_key', at: 'form:prompt', count: 1 }, { detector: 'email', at: 'form:prompt', count: 1 }, { detector: 'email', at: 'form:user', count: 1 }]);
    expect(out!.toString('latin1')).toBe(upload(text('model', 'gpt-image-1'), text('prompt', 'a hat for [REDACTED:email:1], key [REDACTED:api_key:1]'), file('image', FILE), text('user', '[REDACTED:email:1]'), text('size', '1024x1024')).toString('latin1'));
    // The file part's bytes, key and address included, are those sent.
    expect(out!.includes(FILE)).toBe(true);
    expect(multipartFields(out!, TYPE, ['prompt', 'model'])).toEqual({ model: 'gpt-image-1', prompt: 'a hat for [REDACTED:email:1], key [REDACTED:api_key:1]' });
  });

  it('never reads a file part: a key inside one is no hit, and the body is not rewritten', () => {
    const body = upload(text('model', 'gpt-image-1'), text('prompt', 'add a hat'), file('image', FILE));
    expect(redacted(body)).toEqual({ out: undefined, hits: [] });
  });

  it('never reads a part whose bytes are not UTF-8 text (a file sent without a filename): rewriting it would corrupt the file', () => {
    const nameless = Buffer.concat([Buffer.from(`--${B}\r\nContent-Disposition: form-data; name="image"\r\n\r\n`), FILE, Buffer.from('\r\n')]);
    const body = upload(text('prompt', 'add a hat'), nameless);
    expect(readUploadForm(body, TYPE)!.fields.map((f) => f.name)).toEqual(['prompt']);
    expect(redacted(body)).toEqual({ out: undefined, hits: [] });
  });

  it('keeps CRLFs inside a value, and the CRLF before the next delimiter', () => {
    const body = upload(text('prompt', `line one\r\nann@corp.example\r\n\r\nlast\r\n`), file('image', FILE));
    expect(redacted(body).out!.equals(upload(text('prompt', 'line one\r\n[REDACTED:email:1]\r\n\r\nlast\r\n'), file('image', FILE)))).toBe(true);
    // A body whose last part has no closing delimiter (cut short): the value runs to its end.
    const open = Buffer.from(`--${B}\r\nContent-Disposition: form-data; name="prompt"\r\n\r\nmail ann@corp.example`);
    expect(redacted(open).out!.toString()).toBe(`--${B}\r\nContent-Disposition: form-data; name="prompt"\r\n\r\nmail [REDACTED:email:1]`);
  });

  it('names a field as its part names it: quoted with odd characters, unquoted, or sent twice', () => {
    const body = upload(text('', 'ann@corp.example', 'name="notes; [x] \u00e9"'), text('', 'bob@corp.example', 'name=extra'), text('', 'cy@corp.example', 'name=extra'));
    const { out, hits } = redacted(body);
    expect(hits).toEqual([{ detector: 'email', at: 'form:notes; [x] \u00e9', count: 1 }, { detector: 'email', at: 'form:extra', count: 2 }]);
    expect(out!.toString()).not.toMatch(/@corp\.example/);
  });

  it('reports without changing anything when the rule is not applied (monitor mode)', () => {
    const body = upload(text('prompt', 'ann@corp.example'));
    expect(redacted(body, false)).toEqual({ out: undefined, hits: [{ detector: 'email', at: 'form:prompt', count: 1 }] });
  });
});

describe('the policy stage over an upload', () => {
  const runtime = (yaml: string) => ({ policy: loadPolicyText(yaml, 'p.yaml'), buckets: new PolicyBuckets() });
  const exchange = (api: 'images' | 'audio.transcriptions', body: Buffer) => makeExchange({ api, provider: 'openai', request: { headers: ['content-type', TYPE], body: { bytes: body, size: body.length, truncated: false } } });

  it('replace: the body comes back rewritten with its new Content-Length, the decision says where', () => {
    const body = upload(text('model', 'gpt-4o-transcribe'), file('file', FILE), text('prompt', 'names: ann@corp.example'));
    const ex = exchange('audio.transcriptions', body);
    const res = applyPolicy(runtime('rules:\n  - {id: pii, redact: {detectors: [email]}}\n'), ex, ['Content-Type', TYPE, 'Content-Length', String(body.length)], body);
    expect(res.body!.equals(upload(text('model', 'gpt-4o-transcribe'), file('file', FILE), text('prompt', 'names: [REDACTED:email:1]')))).toBe(true);
    expect(res.headers).toEqual(['Content-Type', TYPE, 'Content-Length', String(res.body!.length)]);
    expect(ex.policy).toEqual({ decisions: [{ rule: 'pii', kind: 'redact', action: 'replace', enforced: true, hits: [{ detector: 'email', at: 'form:prompt', count: 1 }] }], bodyChanged: true });
  });

  it('block: refused, the redacted body handed back for the archive; without a hit the body is left alone', () => {
    const body = upload(text('prompt', `use ${KEY}`), file('image', FILE));
    const ex = exchange('images', body);
    const res = applyPolicy(runtime('rules:\n  - {id: keys, redact: {detectors: [api_key], action: block}}\n'), ex, [], body);
    expect(res.error?.code).toBe('content_blocked');
    expect(res.error?.message).toContain('api_key (at form:prompt)');
    expect(res.body!.toString('latin1')).toBe(upload(text('prompt', 'use [REDACTED:api_key:1]'), file('image', FILE)).toString('latin1'));
    const clean = upload(text('prompt', 'add a hat'), file('image', FILE));
    const kept = applyPolicy(runtime('rules:\n  - {id: keys, redact: {detectors: [api_key], action: block}}\n'), exchange('images', clean), [], clean);
    expect([kept.error, kept.body, kept.headers]).toEqual([undefined, undefined, undefined]);
  });

  it('an upload whose content coding cannot be undone is a body redaction cannot read: a block rule refuses it', () => {
    const body = upload(text('prompt', 'add a hat'));
    const ex = exchange('images', body);
    expect(applyPolicy(runtime('rules:\n  - {id: keys, redact: {action: block}}\n'), ex, [], undefined).error?.code).toBe('content_blocked');
    expect(ex.policy?.decisions[0]).toMatchObject({ hits: [{ detector: 'unreadable', at: 'body', count: 1 }] });
  });
});

describe('policy test over archived uploads', () => {
  it('reads their text fields as the proxy does: an address in a prompt is refused, one in a file is not, and neither is unreadable', () => {
    // (The archive keeps no key: its own redaction replaced it before the row was written; an address it keeps.)
    const row = (body: Buffer) => exchangeToRow(makeExchange({ api: 'images', provider: 'openai', request: { method: 'POST', path: '/v1/images/edits', headers: ['Content-Type', TYPE], body: { bytes: body, size: body.length, truncated: false } } }));
    const policy = loadPolicyText('rules:\n  - {id: pii, redact: {detectors: [email], action: block}}\n', 'p.yaml');
    const report = simulatePolicy(policy, [row(upload(text('prompt', 'a hat for ann@corp.example'), file('image', FILE))), row(upload(text('prompt', 'add a hat'), file('image', FILE)))]);
    expect([report.exchanges, report.totals.blocked, report.rules.map((e) => [e.rule, e.requests, e.detectors])]).toEqual([2, 1, [['pii', 1, { email: 1 }]]]);
  });
});
