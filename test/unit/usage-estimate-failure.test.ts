import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { makeExchange } from '../../src/exchange.js';
import { openArchive } from '../../src/recorder/db.js';
import { encodeRecord } from '../../src/recorder/record-codec.js';
import { ArchiveWriter } from '../../src/recorder/writer.js';

// The tokenizer failing (a broken install, say) as the writer sees it.
vi.mock('../../src/recorder/row-estimate.js', () => ({
  estimateMissingUsage: () => {
    throw new Error('Cannot find module gpt-tokenizer');
  },
}));

describe('an estimate that fails', () => {
  it('costs the record nothing: it is archived without usage, and the writer says why once', () => {
    const dir = mkdtempSync(join(tmpdir(), 'llmtap-estimate-'));
    const archive = openArchive(join(dir, 'archive.db'));
    const warnings: string[] = [];
    const writer = new ArchiveWriter(archive, (level, _fields, msg) => void (level === 'warn' && warnings.push(msg)));
    try {
      const streamed = () => makeExchange({
        provider: 'openai', api: 'chat.completions',
        request: { method: 'POST', path: '/v1/chat/completions', headers: [], body: { bytes: Buffer.from('{"messages":[]}'), size: 15, truncated: false } },
        response: { status: 200, headers: ['Content-Type', 'text/event-stream'], body: { bytes: Buffer.alloc(0), size: 0, truncated: false }, reassembled: { text: 'hi', toolCalls: [], events: 2 } },
      });
      const outcome = writer.write([encodeRecord({ kind: 'exchange', exchange: streamed() }), encodeRecord({ kind: 'exchange', exchange: streamed() })]);
      expect([outcome.recorded, outcome.lost]).toEqual([2, 0]);
      expect(archive.db.prepare('SELECT input_tokens, usage_estimated FROM exchanges').all()).toEqual([{ input_tokens: null, usage_estimated: null }, { input_tokens: null, usage_estimated: null }]);
      expect(warnings.filter((w) => w.startsWith('could not estimate'))).toHaveLength(1);
    } finally {
      archive.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
