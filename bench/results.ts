import type { WsDelay, WsOpen, WsRoundTrips } from './websocket.js';
import type { BenchParams } from './config.js';
import type { BlastResult, ClosedResult, HostsResult, SseResult, StreamsResult } from './loadgen.js';
import type { PolicyOverhead } from './policy-overhead.js';

/** A figure, or why there is none. */
export type Cell<T> = T | { na: string } | { error: string };

export function ok<T extends object>(cell: Cell<T> | undefined): T | undefined {
  return cell && !('na' in cell) && !('error' in cell) ? (cell as T) : undefined;
}

export interface LoadFigures extends ClosedResult {
  /** CPU of the proxy process during the measured window, % of one core. */
  proxyCpuPct?: number;
  proxyCpuUsPerReq?: number;
  fakeCpuPct?: number;
  /** New TLS connections the fake provider accepted during the window (connection reuse check). */
  upstreamConnsOpened?: number;
}

export interface StreamsFigures extends StreamsResult {
  baselineRss: number;
  peakRss: number;
  afterRss: { ms: number; rss: number }[];
}

export interface HostsFigures extends HostsResult {
  rssAfter?: number;
}

export type SystemId = 'direct' | 'llmtap' | 'policy' | 'cachehit' | 'tunnel' | 'mitmproxy' | 'hmp';

export interface SystemResult {
  id: SystemId;
  label: string;
  /** The whole row is n/a (with the reason). */
  na?: string;
  idleRss?: number;
  c1?: Cell<LoadFigures>;
  c16?: Cell<LoadFigures>;
  c64?: Cell<LoadFigures>;
  sse?: Cell<SseResult>;
  hosts?: Cell<HostsFigures>;
  streams?: Cell<StreamsFigures>;
  tunnel?: Cell<BlastResult>;
}

export interface ArchiveFigures {
  json: { n: number; rows: number; runningBytes: number; runningPerExchange: number; checkpointedPerExchange: number };
  sse: { n: number; rows: number; runningBytes: number; runningPerExchange: number; checkpointedPerExchange: number };
  emptyBytes: number;
}

export interface InprocReport {
  windowMs: number;
  eventLoopDelayMs: { p50: number; p99: number; max: number; mean: number };
  eventLoopUtilization: number;
  /** Hand-offs of records to the writer thread, as the Recorder publishes them ('llmtap:recorder:batch'). */
  recorder: {
    batches: number; rows: number; maxRowsPerBatch: number; bytes: number; p50: number; p99: number; max: number; totalMs: number;
    over1ms: number;
    /** Of those, hand-offs during which a GC pause ran. */
    over1msWithGc?: number;
    /** Encoding records as they are recorded (per record, before any hand-off): all of it, and the longest one. */
    encodeTotalMs: number; encodeMaxMs: number;
    slowest: { ms: number; records: number; bytes: number }[];
  };
  /** Fixed busy work on the same loop every 10 ms, timed like a hand-off: what preemption alone adds. */
  control?: { workMs: number; runs: number; p50: number; p99: number; max: number; over1ms: number };
  stats: { recorded: number; lost: number; pending: number };
  gc: { count: number; totalMs: number; maxMs: number; over5ms: number };
}

export interface InprocFigures {
  json: InprocReport & { rps: number };
  sse: InprocReport & { events: number };
}

export interface Machine {
  date: string;
  nproc: number;
  cpu: string;
  memoryGiB: number;
  kernel: string;
  node: string;
  undici: string;
  mitmproxy: string;
  httpMitmProxy: string;
  llmtap: string;
}

export interface BenchResults {
  params: BenchParams;
  machine: Machine;
  systems: SystemResult[];
  pipe?: Cell<BlastResult>;
  archive?: Cell<ArchiveFigures>;
  inproc?: Cell<InprocFigures>;
  /** Per-message delay direct vs through llmtap, and llmtap's RSS with many WebSockets open. */
  websocket?: Cell<{ direct: WsDelay; llmtap: WsDelay; open: WsOpen; roundTrip: WsRoundTrips }>;
  /** The 10-rule policy and plain recording taking turns (policy-overhead.ts): whether the policy is within noise. */
  policyOverhead?: Cell<PolicyOverhead>;
  durationMs: number;
  notes: string[];
  /** CPU used by processes outside the bench during each phase (% of one core). */
  noise: { system: string; what: string; otherCpuPct: number }[];
}
