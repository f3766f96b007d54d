import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BUILT_IN_DETECTORS } from '../../src/policy/detectors.js';
import { Placeholders } from '../../src/policy/redact-body.js';
import { readUploadForm, redactForm, rewriteForm } from '../../src/policy/redact-form.js';
import { multipartFields } from '../../src/providers/multipart-fields.js';
import { params, pureRuns, timeoutFor } from './support.js';

const RUNS = pureRuns(500);
const TIMEOUT = timeoutFor(RUNS, 2);
const boundary = fc.stringMatching(/^[A-Za-z0-9'()+_,.\-]{1,40}$/);

describe('multipart form fields', () => {
  it('take any bytes and any Content-Type without throwing', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), fc.string({ maxLength: 80 }), (bytes, type) => {
      multipartFields(Buffer.from(bytes), type, ['model', 'stream']);
      multipartFields(Buffer.from(bytes), `multipart/form-data; boundary=${type}`, ['model']);
    }), params(RUNS));
  }, TIMEOUT);

  it('find a field after a file part of any bytes (one holding field-shaped text too), and never a field inside it', () => {
    fc.assert(fc.property(boundary, fc.uint8Array({ maxLength: 300 }), fc.string({ maxLength: 60 }).filter((v) => !v.includes('\r\n--')), (b, file, value) => {
      const data = Buffer.concat([Buffer.from(file), Buffer.from('\r\nContent-Disposition: form-data; name="model"\r\n\r\nhidden')]);
      // A file holding the delimiter would end its part there: RFC 7578 forbids it, so do we.
      fc.pre(!data.includes(`--${b}`));
      const body = Buffer.concat([
        Buffer.from(`--${b}\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\nContent-Type: audio/wav\r\n\r\n`), data,
        Buffer.from(`\r\n--${b}\r\nContent-Disposition: form-data; name="model"\r\n\r\n${value}\r\n--${b}--\r\n`),
      ]);
      expect(multipartFields(body, `multipart/form-data; boundary=${b}`, ['model', 'file'])).toEqual({ model: value });
    }), params(RUNS));
  }, TIMEOUT);

  it('redacted, change only the text fields: a file part of any bytes (an address inside too) arrives as sent, the fields read back redacted', () => {
    const text = fc.string({ maxLength: 40 }).filter((v) => !v.includes('\r\n--') && !v.includes('@'));
    fc.assert(fc.property(boundary, fc.uint8Array({ maxLength: 300 }), text, text, (b, bytes, before, after) => {
      const file = Buffer.concat([Buffer.from(bytes), Buffer.from(' ann@corp.example\r\n')]);
      fc.pre(![file, before, after].some((part) => part.includes(`--${b}`)));
      const type = `multipart/form-data; boundary=${b}`;
      const body = Buffer.concat([
        Buffer.from(`--${b}\r\nContent-Disposition: form-data; name="prompt"\r\n\r\n${before} ann@corp.example ${after}\r\n`),
        Buffer.from(`--${b}\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\n\r\n`), file,
        Buffer.from(`\r\n--${b}\r\nContent-Disposition: form-data; name="model"\r\n\r\ngpt-image-1\r\n--${b}--\r\n`),
      ]);
      const form = readUploadForm(body, type)!;
      expect(redactForm(form, [BUILT_IN_DETECTORS.email], new Placeholders(), true)).toEqual([{ detector: 'email', at: 'form:prompt', count: 1 }]);
      const out = rewriteForm(form)!;
      expect(out.includes(file)).toBe(true);
      expect(out.subarray(out.indexOf(file) + file.length).equals(body.subarray(body.indexOf(file) + file.length))).toBe(true);
      expect(multipartFields(out, type, ['prompt', 'model'])).toEqual({ prompt: `${before} [REDACTED:email:1] ${after}`, model: 'gpt-image-1' });
    }), params(RUNS));
  }, TIMEOUT);
});
