/**
 * Listeners of one kind of recorder event (exchanges handed over, batches written).
 * A listener that throws is logged and skipped: it must never cost the archive a record.
 */
export class Observers<T> {
  readonly #set = new Set<(event: T) => void>();

  constructor(private readonly failed: (err: unknown) => void) {}

  get size(): number {
    return this.#set.size;
  }

  /** Adds `observer`; returns the unsubscribe. */
  add(observer: (event: T) => void): () => void {
    this.#set.add(observer);
    return () => this.#set.delete(observer);
  }

  emit(event: T): void {
    for (const observer of this.#set) {
      try {
        observer(event);
      } catch (err) {
        this.failed(err);
      }
    }
  }
}
