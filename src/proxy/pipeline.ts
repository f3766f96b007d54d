/**
 * HTTP/1.1 pipelining: a client may send several requests on one connection before
 * the first answer, and answers must come back in that order. Node's server parses
 * and hands over each request at once, so without this every pipelined request would
 * go upstream at the same time (and keep running, costing tokens, after the client
 * left). Requests of one connection run one after another instead; the common case —
 * one request at a time — runs at once with no queueing.
 */
export class PerConnectionQueue {
  private readonly tails = new WeakMap<object, Promise<void>>();

  run(connection: object, task: () => Promise<void>): void {
    const tail = this.tails.get(connection);
    const next = tail ? tail.then(task, task) : task();
    this.tails.set(connection, next);
    next.then(() => {
      if (this.tails.get(connection) === next) this.tails.delete(connection);
    }, () => {});
  }
}
