/** Sizes and durations of every phase; `--quick` shrinks them to a ~1-minute pass. */
export interface BenchParams {
  quick: boolean;
  /** Sequential requests measured at concurrency 1 (after warm-up). */
  c1Count: number;
  c1Warmup: number;
  /** Closed-loop runs at concurrency 16 and 64. */
  loadMs: number;
  loadWarmupMs: number;
  sse: { streams: number; concurrency: number; events: number; gapMs: number };
  /** Distinct new hosts, each one's first request timed; a system that is slower stops at capMs. */
  hosts: { count: number; capMs: number };
  /** Concurrently open SSE streams for the RSS figure. */
  streams: { count: number; rampCapMs: number; holdMs: number; gapMs: number; afterMs: number[] };
  tunnelBytes: number;
  archive: { json: number; sse: number };
  /** In-process llmtap (event-loop and recorder timing). */
  inproc: { loadMs: number; sseStreams: number };
  profileMs: number;
  /** WebSockets held open at once through llmtap for the RSS figure. */
  wsSockets: number;
  /** Plain recording and the 10-rule policy taking turns (policy-overhead.ts): c=1 windows of `latencyRequests`, c=16 windows of `windowMs`. */
  overhead: { rounds: number; windowMs: number; latencyRequests: number };
}

export function benchParams(quick: boolean): BenchParams {
  return quick
    ? {
      quick,
      c1Count: 200,
      c1Warmup: 50,
      loadMs: 1500,
      loadWarmupMs: 300,
      sse: { streams: 16, concurrency: 8, events: 10, gapMs: 10 },
      hosts: { count: 50, capMs: 3000 },
      streams: { count: 100, rampCapMs: 3000, holdMs: 500, gapMs: 500, afterMs: [1000] },
      tunnelBytes: 32 * 1024 * 1024,
      archive: { json: 100, sse: 20 },
      inproc: { loadMs: 1500, sseStreams: 16 },
      profileMs: 3000,
      wsSockets: 1000,
      overhead: { rounds: 2, windowMs: 1000, latencyRequests: 200 },
    }
    : {
      quick,
      c1Count: 3000,
      c1Warmup: 300,
      loadMs: 8000,
      loadWarmupMs: 1000,
      sse: { streams: 200, concurrency: 10, events: 20, gapMs: 10 },
      hosts: { count: 1000, capMs: 30_000 },
      streams: { count: 1000, rampCapMs: 20_000, holdMs: 2000, gapMs: 500, afterMs: [3000, 10_000] },
      tunnelBytes: 200 * 1024 * 1024,
      archive: { json: 1000, sse: 200 },
      inproc: { loadMs: 8000, sseStreams: 200 },
      profileMs: 10_000,
      wsSockets: 1000,
      overhead: { rounds: 5, windowMs: 3000, latencyRequests: 1000 },
    };
}
