/** Progress on stderr: which phase, how far, and a rough time left from planned phase estimates. */
export class Progress {
  private readonly t0 = Date.now();
  private doneEstimateMs = 0;
  private phases = 0;

  constructor(private totalEstimateMs: number, private readonly totalPhases: number) {}

  private clock(ms: number): string {
    const s = Math.max(0, Math.round(ms / 1000));
    return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
  }

  /** Call at the start of a phase with its own estimate. */
  phase(system: string, what: string, estimateMs: number): () => void {
    const elapsed = Date.now() - this.t0;
    // Scale the remaining estimate by how the run has tracked its estimates so far.
    const pace = this.doneEstimateMs > 0 ? elapsed / this.doneEstimateMs : 1;
    const left = Math.max(0, this.totalEstimateMs - this.doneEstimateMs) * Math.min(3, Math.max(0.5, pace));
    this.phases++;
    process.stderr.write(`[bench ${this.clock(elapsed)}] (${this.phases}/${this.totalPhases}) ${system}: ${what} (~${Math.ceil(estimateMs / 1000)} s; ETA ~${this.clock(left)} left)\n`);
    const start = Date.now();
    return () => {
      this.doneEstimateMs += estimateMs;
      const took = Date.now() - start;
      if (took > 2 * estimateMs + 2000) process.stderr.write(`[bench] ${system}: ${what} took ${(took / 1000).toFixed(1)} s\n`);
    };
  }

  note(text: string): void {
    process.stderr.write(`[bench ${this.clock(Date.now() - this.t0)}] ${text}\n`);
  }

  elapsedMs(): number {
    return Date.now() - this.t0;
  }
}
