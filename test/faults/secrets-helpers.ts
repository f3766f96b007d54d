import { decodeStoredBodies } from '../../src/archive/stored-bodies.js';
import type { ExchangeRow } from '../../src/recorder/db.js';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';
import { exchangeLines } from '../../src/archive/export.js';
import { paths } from '../../src/config.js';
import { createLogger, type Logger } from '../../src/log.js';
import { openArchive } from '../../src/recorder/db.js';
import { connectThrough, exchangeRaw, parseResponse, startTls, type ParsedResponse } from '../helpers/raw-client.js';
import type { TestProxy } from '../helpers/start-proxy.js';

/** zstd as Debian's CLI makes it (a real encoder, not ours). */
export const zstd = (input: Buffer | string): Buffer => execFileSync('zstd', ['-c', '-q'], { input, maxBuffer: 1 << 30 });

/** A logger whose JSON lines are kept in memory, for byte searches. */
export function capturingLogger(): { logger: Logger; text(): string } {
  const chunks: string[] = [];
  const destination = new Writable({ write(chunk: Buffer, _enc, done) { chunks.push(chunk.toString()); done(); } });
  return { logger: createLogger({ level: 'debug', pretty: false, destination }), text: () => chunks.join('') };
}

/** One request over an intercepted TLS connection; `Connection: close` so the answer ends with the socket. */
export async function sendRaw(tp: TestProxy, host: string, head: string, headers: Array<[string, string]>, body: Buffer | string = ''): Promise<ParsedResponse> {
  const tunnel = await connectThrough(tp.proxy.address.port, `${host}:443`);
  const tls = await startTls(tunnel, { host, servername: host, ca: tp.caPem });
  const bytes = Buffer.from(body);
  const lines = [...headers, ['Content-Length', String(bytes.length)], ['Connection', 'close']].map(([n, v]) => `${n}: ${v}\r\n`).join('');
  return parseResponse(await exchangeRaw(tls, Buffer.concat([Buffer.from(`${head}\r\nHost: ${host}\r\n${lines}\r\n`, 'latin1'), bytes])));
}

/** Every way someone holding the archive could read a stored body: as is, and through each decoder. */
function readings(bytes: Buffer): Buffer[] {
  const out = [bytes];
  for (const decode of [gunzipSync, brotliDecompressSync, inflateSync, (b: Buffer) => execFileSync('zstd', ['-d', '-c', '-q'], { input: b, maxBuffer: 1 << 30, stdio: ['pipe', 'pipe', 'ignore'] })]) {
    try {
      out.push(decode(bytes));
    } catch {
      // not this coding
    }
  }
  return out;
}

/**
 * Haystacks: the SQLite file and its WAL (raw and every stored body decoded as an
 * attacker would), the decoded export, and the captured log.
 */
export function haystacks(tp: TestProxy, log: string): Array<{ name: string; bytes: Buffer }> {
  const file = paths(tp.home).archive;
  const out: Array<{ name: string; bytes: Buffer }> = [];
  for (const f of [file, `${file}-wal`]) if (existsSync(f)) out.push({ name: f, bytes: readFileSync(f) });
  const archive = openArchive(file, { readonly: true });
  // Both the columns as stored (compressed parts) and the bodies they decode to.
  for (const stored of archive.db.prepare('SELECT * FROM exchanges').all() as ExchangeRow[]) {
    const row = decodeStoredBodies(stored, archive.db);
    for (const body of [stored.request_body, stored.response_body, row.request_body, row.response_body]) if (body) for (const r of readings(body)) out.push({ name: `body of ${row.id}`, bytes: r });
  }
  for (const line of exchangeLines(archive)) {
    out.push({ name: 'export', bytes: Buffer.from(line) });
    const ex = JSON.parse(line) as { request: { body: string | null; body_encoding?: string }; response: { body: string | null; body_encoding?: string } | null };
    for (const part of [ex.request, ex.response]) {
      if (part?.body) for (const r of readings(Buffer.from(part.body, part.body_encoding === 'base64' ? 'base64' : 'utf8'))) out.push({ name: 'exported body', bytes: r });
    }
  }
  archive.close();
  out.push({ name: 'log', bytes: Buffer.from(log) });
  return out;
}

export function findSecrets(secrets: Record<string, string>, stacks: Array<{ name: string; bytes: Buffer }>): string[] {
  const found: string[] = [];
  for (const [what, secret] of Object.entries(secrets)) {
    for (const { name, bytes } of stacks) if (bytes.includes(secret)) found.push(`${what} in ${name}`);
  }
  return [...new Set(found)];
}
