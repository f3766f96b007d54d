import { describe, expect, it } from 'vitest';
import { wsRawLine } from '../../src/cli/render/ws-raw.js';
import type { WsMessageRow } from '../../src/recorder/row-types.js';

const message = (text: string | null, data: Buffer | null = null): WsMessageRow =>
  ({ exchange_id: 'e', seq: 1, direction: 'client', at: Date.parse('2026-12-07T10:11:12.345Z'), opcode: text === null ? 2 : 1, text, data, truncated: 0, error: null }) as unknown as WsMessageRow;

describe('show --raw: a WebSocket message a line', () => {
  it('a text message as recorded when it holds no control character', () => {
    expect(wsRawLine(message('{"type":"response.create","input":"a\\nb\\ttab"}'))).toBe('client 2026-12-07T10:11:12.345Z text {"type":"response.create","input":"a\\nb\\ttab"}\n');
    expect(wsRawLine(message('with a\ttab'))).toBe('client 2026-12-07T10:11:12.345Z text with a\ttab\n');
  });

  it('one holding a line break or another control character: json: and the text as a JSON string, still one line, nothing for the terminal to obey', () => {
    const pretty = JSON.stringify({ type: 'response.create', input: 'hi' }, null, 2);
    const line = wsRawLine(message(`${pretty}\r\n`));
    expect(line).toBe(`client 2026-12-07T10:11:12.345Z text json:${JSON.stringify(`${pretty}\r\n`)}\n`);
    expect(JSON.parse(line.slice(line.indexOf('json:') + 5))).toBe(`${pretty}\r\n`);
    const hostile = 'title \u001b]0;pwned\u0007 csi \u009b31m del \u007f';
    const escaped = wsRawLine(message(hostile));
    expect(escaped).toBe('client 2026-12-07T10:11:12.345Z text json:"title \\u001b]0;pwned\\u0007 csi \\u009b31m del \\u007f"\n');
    expect(JSON.parse(escaped.slice(escaped.indexOf('json:') + 5))).toBe(hostile);
  });

  it('binary payloads stay base64', () => {
    expect(wsRawLine(message(null, Buffer.from([0, 1, 2])))).toBe('client 2026-12-07T10:11:12.345Z binary base64:AAEC\n');
  });
});
