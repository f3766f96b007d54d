import type { EventEmitter } from 'node:events';

/**
 * Waits for room to write (`drain`), the end (`close`) or, with `timeoutMs`, that long;
 * the listeners that did not fire go too, so a long write loop under backpressure adds none.
 */
export function drainOrClose(stream: EventEmitter, timeoutMs?: number): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    const timer = timeoutMs === undefined ? undefined : setTimeout(done, timeoutMs);
    stream.once('drain', done);
    stream.once('close', done);
  });
}
