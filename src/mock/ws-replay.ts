/**
 * One WebSocket session answered by `llmtap mock` (no server behind it): a 101 with
 * llmtap's own Sec-WebSocket-Accept (permessage-deflate declined, so every frame is
 * plain), the recorded opening messages, then for each client message the recorded
 * replies of the matching turn, or a provider-shaped error event naming no_recording (Gemini
 * Live has no error event: the session is closed with 1008 and a reason naming the miss).
 * Sends are queued in order (a client may send its next message before the replies to
 * the last are out); `timing` waits each message's recorded delay first.
 */
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { headerValue, now, type Exchange, type RawHeaders, type WsMessageRecord } from '../exchange.js';
import type { Logger } from '../log.js';
import { wsMessageToRow } from '../recorder/rows.js';
import type { Redactor } from '../redact/redactor.js';
import { closePayload, closeReplyPayload, encodeFrame, websocketAccept } from '../websocket/frame-writer.js';
import { FrameReader } from '../websocket/frames.js';
import { MessageAssembler, OPCODES, type WsMessage } from '../websocket/messages.js';
import { createWsReducer, settleWebSocket, wsPayloadText, type WsReducer } from '../websocket/reduce.js';
import type { WsAnswer, WsConversation } from './ws-index.js';
import { clientEventId, wsErrorEvent, wsMessageCanonical, type ServerMessage } from './ws-recording.js';

export interface WsReplayDeps {
  timing: boolean;
  captureLimit: number;
  redactor: Redactor;
  logger: Logger;
  /** Told of every client data message and how it was answered (the mock's counters). */
  answered(ex: Exchange, answer: WsAnswer): void;
  recordMessages(exchangeId: string, messages: WsMessageRecord[]): void;
  /** Called once when the client socket is gone; the exchange carries outcome, timings and the last messages. */
  finished(ex: Exchange): void;
}

const BATCH_MESSAGES = 256;
/** The close status for a Live message with no recorded answer (RFC 6455 §7.4.1: policy violation), as llmtap ends a session it refuses. */
const POLICY_VIOLATION = 1008;

/** A Live miss's close reason: the code, the message's key and the nearest recording (ASCII, well within a close frame's 123 bytes). */
export function liveMissReason(key: string, nearest: string | undefined): string {
  return `no_recording: no recorded answer for this message (key ${key.slice(0, 16)}${nearest === undefined ? '' : `; nearest ${nearest}`})`.slice(0, 123);
}
/** After the close handshake, the client gets this long to close its end before it is cut. */
const LINGER_MS = 5_000;

export class WsReplay {
  readonly done: Promise<void>;
  private resolveDone!: () => void;
  private chain: Promise<void> = Promise.resolve();
  private batch: WsMessageRecord[] = [];
  private seq = 0;
  private misses = 0;
  private bytesUp = 0;
  private bytesDown = 0;
  private clientClosed = false;
  private serverClosed = false;
  private closedByProxy = false;
  private readonly reducer: WsReducer;
  private readonly assembler: MessageAssembler;

  constructor(private readonly ex: Exchange, private readonly client: Socket, private readonly conversation: WsConversation, private readonly deps: WsReplayDeps) {
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
    this.reducer = createWsReducer(ex.api);
    this.assembler = new MessageAssembler('client', { cap: deps.captureLimit, now, onMessage: (m) => this.onClientMessage(m), onReady: () => {} });
  }

  /** Writes the 101 and the opening messages, then answers what the client sends (`head`: bytes after its upgrade request). */
  start(head: Buffer): void {
    const c = this.client;
    c.setTimeout(0); // an idle WebSocket is not an idle HTTP connection
    c.setNoDelay(true);
    const headers = handshakeHeaders(this.ex.request.headers, this.conversation.recording.headers);
    this.ex.timings.upstreamHeaders = now();
    this.ex.response = { status: 101, headers, body: { bytes: Buffer.alloc(0), size: 0, truncated: false } };
    let text = 'HTTP/1.1 101 Switching Protocols\r\n';
    for (let i = 0; i + 1 < headers.length; i += 2) text += `${headers[i]}: ${headers[i + 1]}\r\n`;
    c.write(`${text}\r\n`);
    this.send(this.conversation.opening);
    const frames = new FrameReader(this.assembler);
    if (head.length > 0) {
      this.bytesUp += head.length;
      frames.push(head);
    }
    c.on('data', (chunk: Buffer) => {
      this.bytesUp += chunk.length;
      frames.push(chunk);
      if (frames.error) this.protocolError();
    });
    c.once('end', () => c.end());
    c.once('close', () => this.finish());
  }

  /** Cuts the client (the proxy's drain deadline). */
  close(): void {
    this.closedByProxy = true;
    this.client.destroy();
  }

  private onClientMessage(m: WsMessage): void {
    if (this.clientClosed) return;
    const record = this.note('client', m.opcode, m.data, m.truncated, m.error);
    if (m.error) return this.protocolError();
    if (m.opcode === OPCODES.ping) return void this.write(OPCODES.pong, m.data);
    if (m.opcode === OPCODES.close) {
      this.clientClosed = true;
      // Answer after the queued replies; a server that closed first only waits for this.
      this.chain = this.chain.then(() => {
        if (!this.serverClosed) this.write(OPCODES.close, closeReplyPayload(m.data));
        this.client.end();
        setTimeout(() => this.client.destroy(), LINGER_MS).unref();
      });
      return;
    }
    if (m.opcode !== OPCODES.text && m.opcode !== OPCODES.binary) return;
    const row = wsMessageToRow(this.ex.id, record, this.deps.redactor); // keyed as the archive stored it (redacted)
    const canonical = wsMessageCanonical(this.ex.provider, m.opcode, m.opcode === OPCODES.text ? (row.text ?? '') : (row.data ?? Buffer.alloc(0)));
    const answer = this.conversation.answer(canonical);
    this.deps.answered(this.ex, answer);
    if ('hit' in answer) return this.send(answer.hit);
    const { key, nearest } = answer.miss;
    const near = nearest ? `; nearest recording ${nearest.exchangeId} differs at ${nearest.difference}` : '; no message of this kind recorded on this upgrade';
    const detail = this.deps.redactor.text(`llmtap mock has no recorded answer for this WebSocket message (key ${key.slice(0, 16)}${near})`);
    this.deps.logger.warn({ exchange: this.ex.id, key: key.slice(0, 16), nearest: nearest?.exchangeId }, 'mock: no recording for a WebSocket message');
    if (this.ex.api === 'gemini.live') return this.send([{ opcode: OPCODES.close, payload: closePayload(POLICY_VIOLATION, liveMissReason(key, nearest?.exchangeId)), delayMs: 0 }]);
    const event = wsErrorEvent(this.ex.api, detail, m.opcode === OPCODES.text ? clientEventId(row.text ?? '') : undefined, ++this.misses);
    this.send([{ opcode: OPCODES.text, payload: Buffer.from(event), delayMs: 0 }]);
  }

  private send(messages: readonly ServerMessage[]): void {
    if (messages.length === 0) return;
    this.chain = this.chain.then(async () => {
      for (const m of messages) {
        if (this.serverClosed || this.client.destroyed) return;
        if (this.deps.timing && m.delayMs > 0) await sleep(m.delayMs);
        if (this.serverClosed || this.client.destroyed) return;
        const more = this.write(m.opcode, m.payload);
        if (!more) await new Promise<void>((resolve) => {
          const go = (): void => {
            this.client.off('drain', go);
            this.client.off('close', go);
            resolve();
          };
          this.client.on('drain', go).on('close', go);
        });
      }
    });
  }

  /**
   * One frame to the client, noted for the mock's own record; a close ends what the server
   * may send (one the server sends first: the client's answer is awaited for a while, then it is cut).
   */
  private write(opcode: number, payload: Buffer): boolean {
    if (this.serverClosed || this.client.destroyed) return true;
    if (opcode === OPCODES.close) this.serverClosed = true;
    this.note('server', opcode, payload, false, undefined);
    const frame = encodeFrame(opcode, payload);
    this.bytesDown += frame.length;
    const more = this.client.write(frame);
    if (opcode === OPCODES.close && !this.clientClosed) setTimeout(() => this.client.destroy(), LINGER_MS).unref();
    return more;
  }

  /** A stream that is not WebSocket, or bits llmtap did not agree to: close 1002 (§7.4.1). */
  private protocolError(): void {
    if (this.serverClosed) return;
    const code = Buffer.alloc(2);
    code.writeUInt16BE(1002);
    this.write(OPCODES.close, code);
    this.client.end();
    setTimeout(() => this.client.destroy(), LINGER_MS).unref();
  }

  private note(direction: 'client' | 'server', opcode: number, data: Buffer, truncated: boolean, error: string | undefined): WsMessageRecord {
    const record: WsMessageRecord = { seq: this.seq++, direction, at: now(), opcode, size: data.length, compressed: false, truncated };
    if (error) record.error = error;
    if (opcode === OPCODES.text && !error) record.text = data.toString('utf8');
    else if (data.length > 0) record.base64 = data.toString('base64');
    // Read as a relayed session's messages are (Gemini Live's JSON in binary frames too).
    const text = error ? undefined : record.text ?? wsPayloadText(this.ex.api, opcode, data);
    if (text !== undefined) this.reducer.push({ direction, text, truncated });
    else if (opcode === OPCODES.close && !error && !truncated) this.reducer.close?.(direction, data);
    this.batch.push(record);
    if (this.batch.length >= BATCH_MESSAGES) {
      this.deps.recordMessages(this.ex.id, this.batch);
      this.batch = [];
    }
    return record;
  }

  private finish(): void {
    const ex = this.ex;
    ex.timings.end = now();
    if (this.closedByProxy) {
      ex.outcome = 'proxy_error';
      ex.errorCode = 'shutdown';
    } else ex.outcome = this.clientClosed && this.serverClosed ? 'completed' : 'client_aborted';
    settleWebSocket(ex, { messages: this.batch, count: this.seq, bytesUp: this.bytesUp, bytesDown: this.bytesDown }, this.reducer);
    this.deps.finished(ex);
    this.resolveDone();
  }
}

/**
 * The 101's headers: Upgrade, Connection and the accept llmtap computes, then the recorded
 * ones (request ids, rate limits); a recorded subprotocol only when this client offered it.
 */
export function handshakeHeaders(request: RawHeaders, recorded: RawHeaders): RawHeaders {
  const out: RawHeaders = ['Upgrade', 'websocket', 'Connection', 'Upgrade', 'Sec-WebSocket-Accept', websocketAccept(headerValue(request, 'sec-websocket-key') ?? '')];
  const offered = (headerValue(request, 'sec-websocket-protocol') ?? '').split(',').map((p) => p.trim()).filter(Boolean);
  for (let i = 0; i + 1 < recorded.length; i += 2) {
    const name = recorded[i]!;
    if (name.toLowerCase() === 'sec-websocket-protocol' && !offered.includes(recorded[i + 1]!.trim())) continue;
    out.push(name, recorded[i + 1]!);
  }
  return out;
}
