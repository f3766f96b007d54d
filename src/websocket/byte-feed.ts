/**
 * The compressed bytes of one message, handed to its inflater as they arrive: the
 * inflater reads them in order (an async iterator) while the frames still come, so a
 * compressed message never has to be kept whole to be inflated. `backlog` is what
 * arrived and was not read yet (the inflater running behind the network).
 */
export class ByteFeed implements AsyncIterable<Buffer> {
  private readonly queue: Buffer[] = [];
  private ended = false;
  private wake: (() => void) | undefined;
  backlog = 0;
  /** Ended with bytes of the message never read (abandoned). */
  dropped = false;

  push(chunk: Buffer): void {
    if (this.ended) return;
    this.queue.push(chunk);
    this.backlog += chunk.length;
    this.signal();
  }

  /** No more bytes: the message's last frame ended (or it is abandoned: what is queued is dropped). */
  end(drop = false): void {
    if (drop && !this.ended) this.dropped = true;
    this.ended = true;
    if (drop) {
      this.queue.length = 0;
      this.backlog = 0;
    }
    this.signal();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Buffer> {
    for (;;) {
      const chunk = this.queue.shift();
      if (chunk) {
        this.backlog -= chunk.length;
        yield chunk;
      } else if (this.ended) {
        return;
      } else {
        await new Promise<void>((resolve) => (this.wake = resolve));
      }
    }
  }

  private signal(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
