/**
 * One WebSocket session after its 101: the two sockets are piped into each other
 * (byte-exact, with backpressure; llmtap never re-frames or re-compresses), and a
 * copy of each direction is read into messages that are recorded in order. Memory
 * per session is bounded: at most one message per direction is being assembled
 * (capped at the capture limit), and finished messages go to the recorder in batches.
 */
import type { Socket } from 'node:net';
import type { ErrorCode } from '../errors.js';
import { ClientGate, type GateResult } from './client-gate.js';
import { now, type Exchange, type ResponsePart, type WsMessageRecord } from '../exchange.js';
import type { DeflateParams } from './deflate.js';
import { ZlibInflater } from './deflate.js';
import { closePayload, encodeFrame } from './frame-writer.js';
import { FrameReader } from './frames.js';
import { MessageAssembler, OPCODES, type Direction, type WsMessage } from './messages.js';
import { createWsReducer, settleWebSocket, wsPayloadText, type WsReducer } from './reduce.js';

export interface SessionDeps {
  captureLimit: number;
  /** Hands finished messages to the archive ahead of the session's own record. */
  recordMessages(exchangeId: string, messages: WsMessageRecord[]): void;
  /** Called once when both sockets are gone; the exchange then carries outcome, timings and the last messages. */
  finished(ex: Exchange): void;
  /** Each response of the session as it ends (model and usage): the policy charges it then. */
  onResponse?(part: ResponsePart): void;
  /**
   * Screens each client data message before it goes upstream (proxy/ws-screen.ts): the
   * client's bytes are then held from each message's first frame until its verdict
   * (client-gate.ts), never held past `holdLimit` bytes. `check` answering undefined: allowed.
   * `active`: whether a message beginning now is screened (a policy is in force), asked at
   * each message's first frame; while it says no, the client's bytes go on as they come and
   * its messages are told to `passed` instead, unjudged (also one in flight when it turns yes).
   */
  screen?: {
    check(message: WsMessageRecord): WsRefusal | undefined;
    holdLimit: number;
    refused(refusal: WsRefusal, ended: boolean): void;
    active?(): boolean;
    passed?(message: WsMessageRecord): void;
  };
}

/**
 * A client message the policy refused: its error code, and the error event the client is
 * sent in its place; without one (Gemini Live has none) the session ends.
 */
export interface WsRefusal {
  code: ErrorCode;
  event?: string;
}

/** A batch goes to the recorder when this many finished messages or bytes wait. */
const BATCH_MESSAGES = 256;
const BATCH_BYTES = 1 << 20;
/** After one side closes cleanly, the other gets this long to close before it is cut. */
const LINGER_MS = 5_000;
/** The close status for a session the policy ended (RFC 6455 §7.4.1: policy violation). */
const POLICY_VIOLATION = 1008;

export class WsSession {
  private readonly pending: WsMessage[] = [];
  private batch: WsMessageRecord[] = [];
  private batchBytes = 0;
  private seq = 0;
  private readonly reducer: WsReducer;
  private readonly client: MessageAssembler;
  private readonly server: MessageAssembler;
  private firstGone: Direction | undefined;
  private closedByProxy = false;
  /** Why the policy ended the session (cut()), recorded as its error code. */
  private cutFor: ErrorCode | undefined;
  /** Reads the server's frames as they are relayed: says whether the client's stream is between frames. */
  private serverFrames: FrameReader | undefined;
  /** Holds the client's messages until screened (only with deps.screen). */
  private gate: ClientGate | undefined;
  private open = 2;
  private bytesUp = 0;
  private bytesDown = 0;
  private upstreamFull = false;
  readonly done: Promise<void>;
  private resolveDone!: () => void;

  constructor(
    private readonly ex: Exchange,
    private readonly clientSocket: Socket,
    private readonly upstream: Socket,
    private readonly deflate: DeflateParams | undefined,
    private readonly deps: SessionDeps,
  ) {
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
    this.reducer = createWsReducer(ex.api, deps.onResponse && ((part) => {
      try {
        deps.onResponse!(part);
      } catch {
        // Charging a response must never stop the relay (fail-open, as recording is).
      }
    }));
    const common = { cap: deps.captureLimit, now, onMessage: (m: WsMessage) => this.onMessage(m), onReady: () => this.drain() };
    this.client = new MessageAssembler('client', { ...common, inflater: deflate && new ZlibInflater(deflate.client) });
    this.server = new MessageAssembler('server', { ...common, inflater: deflate && new ZlibInflater(deflate.server) });
  }

  /** Starts relaying; `clientHead`/`upstreamHead` are bytes each side sent right after the upgrade heads. */
  start(clientHead: Buffer, upstreamHead: Buffer): void {
    const clientFrames = new FrameReader(this.client);
    const serverFrames = (this.serverFrames = new FrameReader(this.server));
    const c = this.clientSocket;
    const u = this.upstream;
    c.setTimeout(0); // an idle WebSocket is not an idle HTTP connection
    u.setTimeout(0);
    c.setNoDelay(true);
    u.setNoDelay(true);
    if (upstreamHead.length > 0) {
      c.write(upstreamHead);
      this.bytesDown += upstreamHead.length;
      serverFrames.push(upstreamHead);
    }
    // Screened: the client's bytes go through the gate (before the copy is read, so a
    // message's verdict finds its bytes held; dormant, forwarding them at once, while
    // `active` says no); otherwise piped as they come.
    const screen = this.deps.screen;
    const gate = (this.gate = screen && new ClientGate((bytes) => this.toUpstream(bytes), screen.holdLimit, screen.active && (() => screen.active!())));
    const up = gate ? (chunk: Buffer) => gate.push(chunk) : (chunk: Buffer) => void u.write(chunk);
    if (clientHead.length > 0) {
      up(clientHead);
      this.bytesUp += clientHead.length;
      clientFrames.push(clientHead);
    }
    // pipe() first: its 'data' listener writes each chunk on before ours reads the copy
    // (a gate is fed first by ours). The client's end follows its last byte let through.
    if (gate) c.once('end', () => gate.ended(() => u.end()));
    else c.pipe(u);
    u.pipe(c);
    c.on('data', (chunk: Buffer) => {
      this.bytesUp += chunk.length;
      if (gate) gate.push(chunk);
      clientFrames.push(chunk);
    });
    u.on('data', (chunk: Buffer) => {
      this.bytesDown += chunk.length;
      serverFrames.push(chunk);
    });
    this.watch(c, u, 'client');
    this.watch(u, c, 'server');
  }

  /** Cuts both sockets (the proxy's drain deadline). */
  close(): void {
    this.closedByProxy = true;
    this.clientSocket.destroy();
    this.upstream.destroy();
  }

  /**
   * Ends the session for the policy (a budget its last response spent): nothing more is
   * relayed either way; the client gets a close frame (1008, the code as its reason) when
   * what it was sent so far ends on a frame boundary, as it does right after a response's
   * last event (else only the connection closes), recorded in the message log after the
   * last message it received, and the upstream connection is dropped.
   * False when the session was already ending.
   */
  cut(code: ErrorCode): boolean {
    if (this.cutFor !== undefined || this.open === 0) return false;
    this.cutFor = code;
    const c = this.clientSocket;
    const u = this.upstream;
    u.unpipe(c);
    c.unpipe(u);
    this.gate?.close();
    // unpipe() pauses a source left without destinations: the client's close and end are still read.
    c.resume();
    if (this.serverFrames?.atBoundary && !this.server.closeSeen && c.writable) {
      const close = encodeFrame(OPCODES.close, closePayload(POLICY_VIOLATION, code));
      c.write(close);
      // Logged as what the client received next on the server's side (the session's row says llmtap ended it).
      this.serverFrames.push(close);
    }
    c.end();
    setTimeout(() => c.destroy(), LINGER_MS).unref();
    u.destroy();
    return true;
  }

  private watch(socket: Socket, other: Socket, side: Direction): void {
    let failed = false;
    socket.on('error', () => {
      failed = true;
      this.firstGone ??= side;
    });
    socket.once('end', () => (this.firstGone ??= side));
    socket.once('close', () => {
      this.firstGone ??= side;
      if (failed) other.destroy();
      else {
        other.end();
        setTimeout(() => other.destroy(), LINGER_MS).unref();
      }
      if (--this.open === 0) void this.finish();
    });
  }

  private onMessage(m: WsMessage): void {
    this.pending.push(m);
    this.drain();
  }

  /** Moves the finished (and inflated) prefix of messages into the batch, in order. */
  private drain(): void {
    let n = 0;
    while (n < this.pending.length && this.pending[n]!.ready) n++;
    if (n === 0) return;
    for (const m of this.pending.splice(0, n)) {
      const record = toRecord(m, this.seq++);
      if (this.gate && m.direction === 'client' && (m.opcode === OPCODES.text || m.opcode === OPCODES.binary)) this.screen(record, m);
      // Gemini Live's server sends JSON in binary frames: read as text, kept as sent.
      const text = record.error ? undefined : record.text ?? wsPayloadText(this.ex.api, m.opcode, m.data);
      if (text !== undefined) this.reducer.push({ direction: m.direction, text, truncated: record.truncated });
      // The server's own close (not the one llmtap sends when it cuts the session), whole as captured.
      else if (m.opcode === OPCODES.close && !record.error && !record.truncated && this.cutFor === undefined) this.reducer.close?.(m.direction, m.data);
      this.batch.push(record);
      this.batchBytes += m.data.length;
    }
    if (this.batch.length >= BATCH_MESSAGES || this.batchBytes >= BATCH_BYTES) {
      this.deps.recordMessages(this.ex.id, this.batch);
      this.batch = [];
      this.batchBytes = 0;
    }
  }

  /** The client's bytes as the gate lets them go, with backpressure: the client waits while the upstream cannot take more. */
  private toUpstream(bytes: Buffer): void {
    if (this.upstream.write(bytes) || this.upstreamFull) return;
    this.upstreamFull = true;
    this.clientSocket.pause();
    this.upstream.once('drain', () => {
      this.upstreamFull = false;
      if (this.cutFor === undefined) this.clientSocket.resume();
    });
  }

  /**
   * A client message's verdict. Refused while still held, it is dropped and the client
   * gets the refusal's error event in its place (the session goes on), unless the server
   * is mid-frame towards the client or the message was compressed with a window the
   * server's inflater keeps (dropping it would corrupt every later message): then, as
   * when the message had already gone upstream, the session ends (cut). A message begun
   * while the gate was dormant went on unjudged: it is only told to `passed`.
   */
  private screen(record: WsMessageRecord, m: WsMessage): void {
    const screen = this.deps.screen!;
    let refusal: WsRefusal | undefined;
    let result: GateResult;
    try {
      result = this.gate!.decide(() => (refusal = screen.check(record)) === undefined);
    } catch {
      // A fault in judging a request ends the session (what is held never goes up), as an HTTP request gets llmtap's 500.
      this.cut('internal');
      return;
    }
    if (result === 'passed') {
      try {
        screen.passed?.(record);
      } catch {
        // Only noted for later (fail-open, as recording is): the message already went on.
      }
      return;
    }
    if (!refusal) return;
    const droppable = result === 'dropped' && (!m.compressed || this.deflate?.client.noContextTakeover === true);
    if (droppable && refusal.event !== undefined && this.tellClient(refusal.event)) return this.deps.screen!.refused(refusal, false);
    if (this.cut(refusal.code)) this.deps.screen!.refused(refusal, true);
  }

  /** Sends the client one text frame of llmtap's own between the server's frames (logged on the server's side); false when it cannot. */
  private tellClient(text: string): boolean {
    const c = this.clientSocket;
    if (!this.serverFrames?.atBoundary || this.server.closeSeen || !c.writable) return false;
    const frame = encodeFrame(OPCODES.text, Buffer.from(text, 'utf8'));
    c.write(frame);
    this.serverFrames.push(frame);
    return true;
  }

  private async finish(): Promise<void> {
    const ex = this.ex;
    ex.timings.end = now();
    // Compressed messages still inflating belong to the record.
    await Promise.all([this.client.settled(), this.server.settled()]);
    this.drain();
    if (this.cutFor !== undefined) {
      ex.outcome = 'blocked';
      ex.errorCode = this.cutFor;
    } else if (this.closedByProxy) {
      ex.outcome = 'proxy_error';
      ex.errorCode = 'shutdown';
    } else if (this.client.closeSeen && this.server.closeSeen) {
      ex.outcome = 'completed';
    } else {
      ex.outcome = this.firstGone === 'server' ? 'upstream_error' : 'client_aborted';
      if (ex.outcome === 'upstream_error') ex.errorCode = 'upstream_error';
    }
    settleWebSocket(ex, { messages: this.batch, count: this.seq, bytesUp: this.bytesUp, bytesDown: this.bytesDown }, this.reducer);
    this.deps.finished(ex);
    this.resolveDone();
  }
}

function toRecord(m: WsMessage, seq: number): WsMessageRecord {
  const record: WsMessageRecord = { seq, direction: m.direction, at: m.at, opcode: m.opcode, size: m.size, compressed: m.compressed, truncated: m.truncated };
  if (m.error) record.error = m.error;
  if (m.opcode === OPCODES.text && !m.error) record.text = m.data.toString('utf8');
  else if (m.data.length > 0) record.base64 = m.data.toString('base64');
  return record;
}
