import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
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
});
