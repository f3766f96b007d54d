/**
 * Admission for slow password checks (scrypt on libuv's small thread pool, shared
 * with DNS): at most `concurrency` run at once; the rest wait in a bounded queue,
 * served round-robin across clients, so one client keeping many bad logins in flight
 * delays others by at most one turn each instead of locking them out. A wait longer
 * than `deadlineMs`, or a queue already full (overall, or for that client), is
 * refused at once — the caller answers 407 and the client may retry.
 */
export interface HashQueueOptions {
  concurrency: number;
  /** Waiting jobs of one client at most. */
  perClient: number;
  /** Waiting jobs overall at most. */
  total: number;
  deadlineMs: number;
}

interface Waiter {
  start(): void;
  timer: NodeJS.Timeout;
}

export class HashQueue {
  private running = 0;
  private waiting = 0;
  /** Per client, in arrival order; Map iteration order is the round-robin order. */
  private readonly queues = new Map<string, Waiter[]>();

  constructor(private readonly options: HashQueueOptions) {}

  /** Runs `job` when a slot is free; undefined when refused (queue full or deadline passed). */
  async run<T>(client: string, job: () => Promise<T>): Promise<T | undefined> {
    if (this.running >= this.options.concurrency && !(await this.wait(client))) return undefined;
    this.running++;
    try {
      return await job();
    } finally {
      this.running--;
      this.next();
    }
  }

  get stats(): { running: number; waiting: number } {
    return { running: this.running, waiting: this.waiting };
  }

  private wait(client: string): Promise<boolean> {
    const queue = this.queues.get(client) ?? [];
    if (queue.length >= this.options.perClient || this.waiting >= this.options.total) return Promise.resolve(false);
    return new Promise((resolve) => {
      const waiter: Waiter = {
        start: () => resolve(true),
        timer: setTimeout(() => {
          this.remove(client, waiter);
          resolve(false);
        }, this.options.deadlineMs),
      };
      queue.push(waiter);
      this.queues.set(client, queue);
      this.waiting++;
    });
  }

  /** Hands the freed slot to the first waiter of the next client in turn. */
  private next(): void {
    for (const [client, queue] of this.queues) {
      const waiter = queue.shift();
      this.queues.delete(client);
      // Back of the line for this client's next waiter: that is the round robin.
      if (queue.length > 0) this.queues.set(client, queue);
      if (!waiter) continue;
      clearTimeout(waiter.timer);
      this.waiting--;
      waiter.start();
      return;
    }
  }

  private remove(client: string, waiter: Waiter): void {
    const queue = this.queues.get(client);
    const at = queue?.indexOf(waiter) ?? -1;
    if (!queue || at < 0) return;
    queue.splice(at, 1);
    this.waiting--;
    if (queue.length === 0) this.queues.delete(client);
  }
}
