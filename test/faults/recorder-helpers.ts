import { randomBytes } from 'node:crypto';
/**
 * Shared by the recorder fault tests (fault list #17): in-process proxies in front of
 * the fake provider, a log captured in memory, requests that carry planted secrets.
 */
import { Writable } from 'node:stream';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { paths } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import type { ArchiveOptions } from '../../src/recorder/db.js';
import { exported } from '../helpers/archive.js';
import { OPENAI_TEXT, startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';

export const SECRETS = {
  bearer: 'sk-proj-PLANTEDfaultBearer0123456789abcdef',
  xApiKey: 'sk-ant-api03-PLANTEDfaultXApiKey0123456789',
  queryKey: 'AIzaPLANTEDfaultQueryKey0123456789abcdefgh',
  inPrompt: 'sk-PLANTEDfaultInPrompt0123456789abcdefghij',
};

export interface Started {
  tp: TestProxy;
  /** Every JSON log line the proxy wrote (level debug and up). */
  logs: string[];
  /** The archive path. */
  file: string;
}

export interface StartOptions {
  failClosed?: boolean;
  archive?: ArchiveOptions;
  home?: string;
}

/**
 * Registers the hooks (one fake provider per file, proxies closed after each test)
 * and returns a starter. Call at the top level of a test file.
 */
export function useFaultProxies(): { start(opts?: StartOptions): Promise<Started>; fake(): FakeProvider } {
  let fake: FakeProvider | undefined;
  const running: TestProxy[] = [];
  beforeAll(async () => {
    fake = await startFakeProvider();
  });
  afterEach(async () => {
    for (const tp of running.splice(0)) await tp.close();
  });
  afterAll(async () => {
    await fake?.close();
  });
  return {
    fake: () => fake!,
    async start(opts = {}) {
      const logs: string[] = [];
      const destination = new Writable({
        write(chunk: Buffer, _enc, cb) {
          logs.push(chunk.toString());
          cb();
        },
      });
      // The production logger (same redaction paths), writing to memory.
      const logger = createLogger({ level: 'debug', destination });
      const overrides = { failClosed: opts.failClosed ?? false, ...(opts.home ? { home: opts.home } : {}) };
      const tp = await startTestProxy(fake!, overrides, { logger, archive: opts.archive });
      running.push(tp);
      return { tp, logs, file: paths(tp.home).archive };
    },
  };
}

export interface Answer {
  status: number;
  error: unknown;
  text: string;
}

/** A chat request carrying every kind of secret a client sends; `pad` makes its row need new pages. */
export async function post(tp: TestProxy, id: string, pad = 0): Promise<Answer> {
  const res = await request(`https://api.openai.com/v1/chat/completions?key=${SECRETS.queryKey}`, {
    method: 'POST',
    dispatcher: tp.agent,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${SECRETS.bearer}`, 'x-api-key': SECRETS.xApiKey, 'x-test-id': id },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: `key ${SECRETS.inPrompt} ${padding(pad)}` }] }),
  });
  const text = await res.body.text();
  return { status: res.statusCode, error: res.headers['x-llmtap-error'], text };
}

export function expectProviderAnswer(res: Answer): void {
  expect(res.status).toBe(200);
  expect((JSON.parse(res.text) as { choices: [{ message: { content: string } }] }).choices[0].message.content).toBe(OPENAI_TEXT);
}

export function expect503(res: Answer): void {
  expect(res.status).toBe(503);
  expect(res.error).toBe('archive_unavailable');
  expect(JSON.parse(res.text)).toHaveProperty('error.message');
  expectNoSecret(res.text);
}

/** Fails naming the first line (log line, body) that holds a planted secret. */
export function expectNoSecret(text: string): void {
  for (const [name, secret] of Object.entries(SECRETS)) {
    const line = text.split('\n').find((l) => l.includes(secret));
    expect(line, `${name} leaked`).toBeUndefined();
  }
}

export function logged(logs: string[], msg: RegExp): Record<string, unknown>[] {
  return logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => typeof l.msg === 'string' && msg.test(l.msg));
}

/** x-test-id of every exchange in the archive file, in order (flushes first). */
export function recordedIds(tp: TestProxy): string[] {
  return exported(tp).map((e) => e.request.headers['x-test-id'] as string);
}

/**
 * Fail-closed recovery is driven by traffic: the first request after a fix may still
 * get 503 (its own record is the write that proves the archive works again).
 */
export async function untilForwarded(tp: TestProxy, id: string): Promise<Answer> {
  const deadline = Date.now() + 3000;
  for (let i = 0; ; i++) {
    const res = await post(tp, `${id}-${i}`);
    if (res.status !== 503 || Date.now() > deadline) return res;
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * Padding that does not compress: the archive stores bodies compressed, and a
 * padded body must still take its size on disk (the disk-full cases need it to).
 */
function padding(bytes: number): string {
  return randomBytes(Math.ceil((bytes * 3) / 4)).toString('base64').slice(0, bytes);
}
