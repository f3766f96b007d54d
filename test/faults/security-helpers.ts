import { Socket } from 'node:net';
import { expect } from 'vitest';

export const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
export const CHAT = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });

export interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
  closed: boolean;
}

/**
 * Sends raw bytes and reads until the proxy closes (or the timeout). Uses `new Socket().connect()`,
 * which the `net.client.socket` diagnostics channel does not report, so connect watchers only see the proxy's own.
 */
export function rawExchange(port: number, bytes: string, timeoutMs = 3000): Promise<Answer> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const chunks: Buffer[] = [];
    const done = (closed: boolean): void => {
      clearTimeout(timer);
      const raw = Buffer.concat(chunks).toString('latin1');
      const end = raw.indexOf('\r\n\r\n');
      const lines = raw.slice(0, end < 0 ? raw.length : end).split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of lines.slice(1)) {
        const i = line.indexOf(':');
        if (i > 0) headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
      }
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(lines[0] ?? '')?.[1] ?? 0), headers, body: end < 0 ? '' : raw.slice(end + 4), closed });
    };
    const timer = setTimeout(() => {
      socket.destroy();
      done(false);
    }, timeoutMs);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => {});
    socket.once('close', () => done(true));
    socket.connect(port, '127.0.0.1', () => socket.write(bytes));
  });
}

export function expect407(a: Answer, what: string): void {
  expect(a.status, what).toBe(407);
  expect(a.headers['proxy-authenticate'], what).toBe('Basic realm="llmtap"');
  expect(a.headers['x-llmtap-error'], what).toBe('proxy_auth_required');
  expect(a.closed, what).toBe(true);
}
