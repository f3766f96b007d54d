import { EventEmitter } from 'node:events';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { errorText, guardProcess } from '../../src/cli/process-guard.js';
import { createLogger } from '../../src/log.js';
import { builtInRedactor, createRedactor } from '../../src/redact/redactor.js';

const KEY = 'sk-ant-api03-' + 'x'.repeat(40);

/** A process stand-in: its events, and the exit code asked for. */
function fakeProcess() {
  const emitter = new EventEmitter();
  const proc = Object.assign(emitter, { exitCode: undefined as number | undefined, exit(code: number) { proc.exitCode = code; } });
  return proc;
}

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({ write(chunk: Buffer, _enc, done) { lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>); done(); } });
  return { logger: createLogger({ destination }), lines };
}

describe('errorText', () => {
  it('is the stack of an Error, redacted', () => {
    const text = errorText(new Error(`bad ${KEY}`), builtInRedactor);
    expect(text).toMatch(/^Error: bad \S+\n\s+at /);
    expect(text).not.toContain(KEY);
  });

  it('prints what a promise may be rejected with besides an Error', () => {
    const cycle: Record<string, unknown> = { a: 1 };
    cycle.self = cycle;
    expect(errorText('plain text', builtInRedactor)).toBe('plain text');
    expect(errorText({ code: 'E1' }, builtInRedactor)).toBe('{"code":"E1"}');
    expect(errorText(undefined, builtInRedactor)).toBe('undefined');
    expect(errorText(cycle, builtInRedactor)).toBe('[object Object]');
    expect(errorText(Object.create(null), builtInRedactor)).toBe('{}');
    expect(errorText({ toJSON() { throw new Error('no'); } }, builtInRedactor)).toBe('[object Object]');
  });

  it("uses the operator's patterns too", () => {
    expect(errorText('employee EMP-123456 failed', createRedactor([/EMP-\d{6}/g]))).not.toContain('EMP-123456');
  });
});

describe('guardProcess', () => {
  it('logs and counts a rejection and goes on; logs an exception and exits 1', async () => {
    const proc = fakeProcess();
    const { logger, lines } = capture();
    let internal = 0;
    guardProcess(proc, { logger, redactor: () => builtInRedactor, countInternal: () => internal++ });
    proc.emit('unhandledRejection', new Error(`lost ${KEY}`));
    expect([internal, proc.exitCode]).toEqual([1, undefined]);
    proc.emit('uncaughtException', new TypeError('broken'));
    await new Promise((r) => setImmediate(r));
    expect([internal, proc.exitCode]).toEqual([2, 1]);
    expect(lines.map((l) => [l.level, l.code, l.msg])).toEqual([
      [50, 'internal', 'unhandled rejection: logged, the proxy goes on'],
      [60, 'internal', 'uncaught exception: exiting'],
    ]);
    expect(JSON.stringify(lines)).not.toContain(KEY);
  });
});
