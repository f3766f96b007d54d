/**
 * Content-Encoding names are the client's (or the provider's) text: a name that is a
 * member of Object.prototype must read as an unknown coding like any other, not as
 * a coding that "decodes" to nothing. Found by the body fuzz (test/fuzz/bodies.test.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeBody, decodeForStorage } from '../../src/content-encoding.js';
import { makeExchange } from '../../src/exchange.js';
import { silentLogger } from '../../src/log.js';
import { openArchive, type Archive } from '../../src/recorder/db.js';
import { Recorder } from '../../src/recorder/recorder.js';
import { exchangeToRow } from '../../src/recorder/rows.js';

const NAMES = ['__proto__', 'constructor', 'hasownproperty', 'valueof', 'isprototypeof', '__definegetter__', 'gzip, __proto__', '__proto__, gzip'];
const body = Buffer.from('{"model":"m","api_key":"PLAINSECRET","note":"sk-proj-abcdefghijklmnopqrstuvwxyz0123456789"}');

describe('Content-Encoding names that are Object.prototype members', () => {
  it.each(NAMES)('%s is an unknown coding: nothing decodes, the row keeps only size and digest', (name) => {
    const wire = name.includes('gzip') ? gzipSync(body) : body;
    expect(decodeBody(wire, name)).toBeUndefined();
    expect(decodeForStorage(wire, name)).toBeUndefined();
    const row = exchangeToRow(makeExchange({ request: { headers: ['Content-Encoding', name], body: { bytes: wire, size: wire.length, truncated: false } } }));
    expect(row.request_body).toBeNull();
    expect(row.request_body_stored).toBe('digest');
    expect(row.request_body_sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  describe('in the archive', () => {
    let dir: string;
    let archive: Archive;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'llmtap-coding-names-'));
      archive = openArchive(join(dir, 'archive.db'));
    });
    afterEach(() => {
      archive.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('an exchange with such a coding is recorded, and so are those written with it', () => {
      const recorder = new Recorder(archive, { logger: silentLogger() });
      const ids = ['ex-plain-1', 'ex-proto', 'ex-plain-2'];
      for (const id of ids) {
        const headers = id === 'ex-proto' ? ['Content-Encoding', '__proto__'] : ['Content-Type', 'application/json'];
        recorder.recordExchange(makeExchange({ id, request: { headers, body: { bytes: body, size: body.length, truncated: false } } }));
      }
      recorder.flush();
      const rows = archive.db.prepare('SELECT id, request_body, request_body_stored FROM exchanges ORDER BY id').all() as Array<{ id: string; request_body: Buffer | null; request_body_stored: string }>;
      expect(rows.map((r) => r.id)).toEqual([...ids].sort());
      const proto = rows.find((r) => r.id === 'ex-proto')!;
      expect(proto.request_body).toBeNull();
      expect(proto.request_body_stored).toBe('digest');
    });
  });
});
