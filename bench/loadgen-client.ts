import type { ChildProcess } from 'node:child_process';
import type { Job } from './loadgen.js';

/** Talks to the load-generator child: one job at a time, events passed to the caller. */
export class LoadGen {
  private nextId = 1;
  constructor(private readonly child: ChildProcess) {}

  get pid(): number | undefined {
    return this.child.pid;
  }

  run<T>(job: Job, onEvent?: (event: any) => void, timeoutMs = 300_000): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => finish(new Error(`load generator: ${job.kind} job timed out`)), timeoutMs);
      const onMessage = (m: { id?: number; event?: unknown; result?: T; error?: string }): void => {
        if (m.id !== id) return;
        if (m.event !== undefined) return void onEvent?.(m.event);
        finish(m.error !== undefined ? new Error(m.error) : undefined, m.result);
      };
      const onExit = (): void => finish(new Error('load generator exited'));
      const finish = (err?: Error, value?: T): void => {
        clearTimeout(timer);
        this.child.off('message', onMessage);
        this.child.off('exit', onExit);
        if (err) reject(err);
        else resolve(value as T);
      };
      this.child.on('message', onMessage);
      this.child.once('exit', onExit);
      this.child.send({ id, job });
    });
  }
}
