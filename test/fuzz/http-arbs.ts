/** fast-check generators for HTTP/1.1 bytes, shared by the live fuzz files. */
import fc from 'fast-check';

/**
 * `clean` most of the time, `hostile` one time in `ratio + 1`. Each field of a request
 * is drawn this way, so a typical case has one or two hostile parts and still gets past
 * the parser often enough to reach the proxy's own code.
 */
export function mostly<T>(clean: fc.Arbitrary<T>, hostile: fc.Arbitrary<T>, ratio = 12): fc.Arbitrary<T> {
  return fc.oneof({ weight: ratio, arbitrary: clean }, { weight: 1, arbitrary: hostile });
}

export const eol = mostly(fc.constant('\r\n'), fc.constantFrom('\n', '\r', ''), 16);
export const junkChar = fc.constantFrom(...'aZ09 :\t\r\n\0/[]@%\u0080\u00ff\u007f"'.split(''));
export const junk = (max: number) => fc.string({ unit: junkChar, maxLength: max });
export const token = fc.stringMatching(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,12}$/);

/** Header lines, from clean to hostile. */
export const headerLine = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(token, fc.string({ unit: 'grapheme-ascii', maxLength: 30 })).map(([n, v]) => `${n}: ${v.replace(/[\r\n]/g, '')}`) },
  { weight: 1, arbitrary: fc.tuple(token, junk(10)).map(([n, v]) => `${n}: ${v}`) }, // bare CR/LF/NUL in values
  { weight: 1, arbitrary: fc.tuple(token, token).map(([n, v]) => ` ${n} folded ${v}`) }, // obs-fold continuation
  { weight: 1, arbitrary: fc.tuple(token, token).map(([n, v]) => `${n} : ${v}`) }, // space before colon
  { weight: 1, arbitrary: junk(20) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 20_000 }).map((n) => `X-Long: ${'v'.repeat(n)}`) },
);

/** Many headers (past Node's 16 KiB header limit at the top end). */
export const cleanHeaderLine = fc.tuple(token, fc.stringMatching(/^[\x21-\x7e]{0,20}$/)).map(([n, v]) => `${n}: ${v}\r\n`);
export const headerBlock = fc.oneof(
  { weight: 12, arbitrary: fc.array(cleanHeaderLine, { maxLength: 6 }).map((ls) => ls.join('')) },
  { weight: 2, arbitrary: fc.array(fc.tuple(headerLine, eol), { maxLength: 8 }).map((ls) => ls.map(([l, e]) => l + e).join('')) },
  { weight: 1, arbitrary: fc.integer({ min: 50, max: 3_000 }).map((n) => Array.from({ length: n }, (_, i) => `X-H${i}: ${i}\r\n`).join('')) },
);

export type Framing = 'none' | 'cl' | 'cl-short' | 'cl-dup-same' | 'cl-dup-diff' | 'cl-bad' | 'chunked' | 'chunked-bad' | 'cl+te' | 'te-odd';
export const SMUGGLING: ReadonlySet<Framing> = new Set(['cl-dup-diff', 'cl+te']);

export function frame(framing: Framing, body: Buffer): { headers: string; body: Buffer } {
  const n = body.length;
  const chunked = Buffer.concat([Buffer.from(`${n.toString(16)}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')]);
  switch (framing) {
    case 'none': return { headers: '', body: Buffer.alloc(0) };
    case 'cl': return { headers: `Content-Length: ${n}\r\n`, body };
    case 'cl-short': return { headers: `Content-Length: ${n + 10}\r\n`, body };
    case 'cl-dup-same': return { headers: `Content-Length: ${n}\r\nContent-Length: ${n}\r\n`, body };
    case 'cl-dup-diff': return { headers: `Content-Length: ${n}\r\nContent-Length: ${n + 1}\r\n`, body };
    case 'cl-bad': return { headers: `Content-Length: -${n}x\r\n`, body };
    case 'chunked': return { headers: 'Transfer-Encoding: chunked\r\n', body: n === 0 ? Buffer.from('0\r\n\r\n') : chunked };
    case 'chunked-bad': return { headers: 'Transfer-Encoding: chunked\r\n', body: Buffer.concat([Buffer.from('zz\r\n'), body]) };
    case 'cl+te': return { headers: `Content-Length: ${n}\r\nTransfer-Encoding: chunked\r\n`, body: n === 0 ? Buffer.from('0\r\n\r\n') : chunked };
    case 'te-odd': return { headers: 'Transfer-Encoding: gzip, chunked\r\nTransfer-Encoding: identity\r\n', body };
  }
}

/**
 * Whether `headers` really are in the request head: a hostile header block can end the
 * head early (an empty line), and what follows is then the next request, not this one's framing.
 */
export function inHead(bytes: Buffer, headers: string): boolean {
  const ends = [bytes.indexOf('\r\n\r\n'), bytes.indexOf('\n\n'), bytes.indexOf('\n\r\n')].filter((i) => i >= 0);
  const headEnd = ends.length > 0 ? Math.min(...ends) : bytes.length;
  const at = bytes.indexOf(headers);
  // As header lines: a generated header line left without its line end makes the framing
  // headers part of its value (`X: v]Content-Length: 5`), which is no framing at all.
  const lineStart = at === 0 || bytes[at - 1] === 0x0a || bytes[at - 1] === 0x0d;
  return at >= 0 && at < headEnd && lineStart;
}

export const framingArb = mostly(
  fc.constantFrom<Framing>('none', 'cl', 'cl', 'chunked'),
  fc.constantFrom<Framing>('cl-short', 'cl-dup-same', 'cl-dup-diff', 'cl-bad', 'chunked-bad', 'cl+te', 'cl+te', 'cl-dup-diff', 'te-odd'),
  4,
);
export const extraHeaders = fc.array(mostly(
  fc.constantFrom('Connection: close\r\n', 'Connection: keep-alive, X-Hop\r\nX-Hop: 1\r\n', 'Proxy-Connection: keep-alive\r\n', 'Expect: 100-continue\r\n',
    'Authorization: Bearer sk-fuzzfuzzfuzzfuzzfuzzfuzz\r\n', 'Content-Type: application/json\r\n', 'Content-Encoding: br\r\n', 'Content-Encoding: gzip\r\n', 'Accept-Encoding: gzip\r\n'),
  fc.constantFrom('Upgrade: websocket\r\nConnection: upgrade\r\n', 'Host: \r\n', 'Host: a\r\nHost: b\r\n', 'Content-Length: 0\r\n', 'Transfer-Encoding: chunked\r\n'),
  8,
), { maxLength: 3 }).map((hs) => hs.join(''));

