/**
 * Holds what a WebSocket client sends, from the first byte of each data message,
 * until that message has been screened (the policy's rules on the request a
 * `response.create` makes: see proxy/ws-screen.ts), so a refused request never
 * reaches the upstream. Allowed bytes go on exactly as they came, only later (the
 * upstream cannot act on a message before its last frame anyway); a refused
 * message's own frames are dropped, while a control frame the client sent between its
 * fragments (a ping, a close: RFC 6455 §5.4 lets them in) still goes on, in its place.
 * Pure: fed the client's bytes in wire order, it writes through `forward`; it reads
 * frame heads only (the session's own reader assembles the messages it decides on).
 *
 * Decisions come in message order, one per data message (`decide`). A message
 * larger than `limit`, or bytes that are not WebSocket frames, end the holding for
 * the rest of the session: everything held and everything after goes on unscreened,
 * and `decide` answers 'late' (the caller then ends the session instead).
 *
 * Dormant while `screening()` says no (no policy in force): every byte goes on as it
 * comes, nothing is held, not even a frame head the network cut; the heads are still
 * read, so that holding can begin at the next message boundary once it says yes. A
 * message is held only when the gate screens as its head is read and none of its bytes
 * went on yet: one begun while dormant goes on unheld to its end and is never judged
 * (`decide` answers 'passed' without asking). When it says no again, what is held
 * still waits for its verdict and later messages go on unheld.
 */
import { parseHead } from './frames.js';

/**
 * What became of a data message: dropped or forwarded by the gate, already gone upstream
 * when judged ('late'), or gone on unheld, never judged, as it began while the gate was dormant ('passed').
 */
export type GateResult = 'dropped' | 'forwarded' | 'late' | 'passed';

interface HeldMessage {
  seq: number;
  /** Stream offsets (bytes since the session began) of its first head byte and past its last frame. */
  start: number;
  end?: number;
  allowed?: boolean;
  /** Control frames sent between its fragments, as stream offsets [start, end): they go on even if it is refused. */
  controls?: { start: number; end: number }[];
}

const EMPTY = Buffer.alloc(0);
const TEXT = 1;
const BINARY = 2;
const FIRST_CONTROL = 8;

export class ClientGate {
  /** Bytes not forwarded or dropped yet, from stream offset `base` to `pos`: chunks[first…]. */
  private chunks: Buffer[] = [];
  /** Index of the first chunk still held (an index, not shift(): a client trickling bytes must not cost quadratic time). */
  private first = 0;
  private base = 0;
  private pos = 0;
  private readonly queue: HeldMessage[] = [];
  private started = 0;
  private decided = 0;
  /** A frame head split across chunks (at most 14 bytes). */
  private head: Buffer = EMPTY;
  /** Payload bytes of the current frame still to come. */
  private remaining = 0;
  /** The current frame is the last of a data message (FIN on a data or continuation frame). */
  private endsMessage = false;
  private passThrough = false;
  private closed = false;
  /** The first message that holding ended for (giveUp, close): it and every later one is late, not passed. */
  private lateFrom = Infinity;
  /** Stream offset nothing is forwarded past: the first byte of a message the client never finished (ended()). */
  private stop = Infinity;
  private onIdle: (() => void) | undefined;

  /** `screening`: whether a message beginning now is held (asked at each data message's head); the gate is dormant while it says no. */
  constructor(private readonly forward: (bytes: Buffer) => void, private readonly limit: number, private readonly screening: () => boolean = () => true) {}

  /** Bytes held back right now. */
  get held(): number {
    return Math.min(this.pos, this.stop) - this.base;
  }

  push(chunk: Buffer): void {
    if (this.closed) return;
    if (this.passThrough) {
      this.pos += chunk.length;
      this.base = this.pos;
      this.forward(chunk);
      return;
    }
    const sane = this.scan(chunk);
    this.chunks.push(chunk);
    this.pos += chunk.length;
    if (!sane || (this.queue.length > 0 && this.held > this.limit)) return this.giveUp();
    this.release();
  }

  /**
   * The next data message in wire order: 'passed' when it went on unheld, begun while the
   * gate was dormant (`judge` is not asked); otherwise `judge`'s verdict (true: allowed),
   * and the message forwarded or dropped when the gate still holds it, 'late' when it
   * already went upstream (holding had ended).
   */
  decide(judge: () => boolean): GateResult {
    const seq = this.decided++;
    if (this.passedUnheld(seq)) return 'passed';
    const allowed = judge();
    if (this.closed || this.passThrough) return 'late';
    const first = this.queue[0];
    if (first?.seq !== seq) {
      // Verdicts out of step with the messages held: holding anything longer could stall the session.
      this.giveUp();
      return 'late';
    }
    first.allowed = allowed;
    this.release();
    return allowed ? 'forwarded' : 'dropped';
  }

  /**
   * The client sent its last byte. A message it never finished can never be judged (its
   * verdict waits for its last frame): it is dropped, with anything sent after its first
   * byte, as the upstream could not have acted on it either. `then` runs once every
   * finished message went through or was dropped: the client's end goes upstream after
   * its last allowed byte, and never waits for bytes that will not come.
   */
  ended(then: () => void): void {
    if (this.closed) return then();
    const last = this.queue[this.queue.length - 1];
    if (last && last.end === undefined) {
      this.queue.pop();
      this.stop = last.start;
    } else if (this.head.length > 0) {
      // A frame head the client never finished: nothing the upstream could read (a dormant gate already let it go).
      this.stop = Math.max(this.base, this.pos - this.head.length);
    }
    this.release();
    this.whenIdle(then);
  }

  /** Calls `then` once nothing is held (at once when nothing is): the client's end goes upstream after its last allowed byte. */
  whenIdle(then: () => void): void {
    if (this.held === 0 && this.queue.length === 0) then();
    else this.onIdle = then;
  }

  /** Forwards nothing more (the session was cut): what is held is dropped. */
  close(): void {
    this.endHolding();
    this.closed = true;
    this.chunks = [];
    this.first = 0;
    this.base = this.pos;
    this.queue.length = 0;
    this.onIdle = undefined;
  }

  /** Finds the frame heads in `chunk` (which starts at stream offset `pos`); false when they make no sense. */
  private scan(chunk: Buffer): boolean {
    let i = 0;
    while (i < chunk.length) {
      if (this.remaining > 0) {
        const take = Math.min(this.remaining, chunk.length - i);
        this.remaining -= take;
        i += take;
        if (this.remaining === 0) this.frameEnd(this.pos + i);
        continue;
      }
      const headStart = this.pos + i - this.head.length;
      const bytes = this.head.length > 0 ? Buffer.concat([this.head, chunk.subarray(i, i + 14)]) : chunk.subarray(i, i + 14);
      const parsed = parseHead(bytes);
      if (parsed === 'short') {
        // A head is at most 14 bytes: a short one means the chunk ended inside it.
        this.head = Buffer.from(bytes);
        return true;
      }
      if (typeof parsed === 'string') return false;
      i += parsed.headBytes - this.head.length;
      this.head = EMPTY;
      const { opcode, fin, length } = parsed.header;
      if (opcode === TEXT || opcode === BINARY) {
        // A message begun before the last one ended breaks RFC 6455 §5.4: stop making sense of the stream.
        const last = this.queue[this.queue.length - 1];
        if (last && last.end === undefined) return false;
        const seq = this.started++;
        // Held from its first byte or not at all: a head a dormant gate let go in part goes on unheld.
        if (headStart >= this.base && this.screening()) this.queue.push({ seq, start: headStart });
      } else if (opcode >= FIRST_CONTROL) {
        const open = this.queue[this.queue.length - 1];
        if (open && open.end === undefined) (open.controls ??= []).push({ start: headStart, end: this.pos + i + length });
      }
      this.endsMessage = fin && opcode < FIRST_CONTROL;
      this.remaining = length;
      if (length === 0) this.frameEnd(this.pos + i);
    }
    return true;
  }

  private frameEnd(at: number): void {
    if (!this.endsMessage) return;
    // Data messages never overlap (RFC 6455 §5.4): the newest one is the one ending.
    const last = this.queue[this.queue.length - 1];
    if (last && last.end === undefined) last.end = at;
  }

  /** Forwards what lies before the first undecided message, and every decided message in turn. */
  private release(): void {
    for (;;) {
      const first = this.queue[0];
      if (!first) {
        // Not a frame head cut by the network: it may start a message that has to be held (a dormant gate holds nothing).
        const to = this.head.length > 0 && this.screening() ? this.pos - this.head.length : this.pos;
        this.advance(Math.min(to, this.stop), true);
        break;
      }
      this.advance(first.start, true);
      if (first.allowed === undefined || first.end === undefined) return;
      if (!first.allowed) {
        // The refused message's frames go; the control frames between them are the client's own and go on.
        for (const c of first.controls ?? []) {
          this.advance(c.start, false);
          this.advance(c.end, true);
        }
      }
      this.advance(first.end, first.allowed);
      this.queue.shift();
    }
    const idle = this.onIdle;
    if (idle && this.held === 0) {
      this.onIdle = undefined;
      idle();
    }
  }

  /** Holding ends for good: what is held goes on, and everything after it. */
  private giveUp(): void {
    this.endHolding();
    this.passThrough = true;
    this.queue.length = 0;
    this.advance(this.pos, true);
    this.onIdle?.();
    this.onIdle = undefined;
  }

  /** Holding ends: the first message held (else the next to begin) and every later one are judged late. */
  private endHolding(): void {
    this.lateFrom = Math.min(this.lateFrom, this.queue[0]?.seq ?? this.started);
  }

  /** Message `seq` began while the gate was dormant, so went on unheld: neither held now nor one holding ended for. */
  private passedUnheld(seq: number): boolean {
    const first = this.queue[0];
    return seq < this.started && seq < this.lateFrom && (first === undefined || first.seq > seq);
  }

  /** Moves `base` to stream offset `to`, forwarding the bytes passed over or dropping them. */
  private advance(to: number, send: boolean): void {
    while (this.base < to) {
      const chunk = this.chunks[this.first]!;
      const n = Math.min(chunk.length, to - this.base);
      const part = n === chunk.length ? chunk : chunk.subarray(0, n);
      if (n === chunk.length) this.chunks[this.first++] = EMPTY;
      else this.chunks[this.first] = chunk.subarray(n);
      this.base += n;
      if (send) this.forward(part);
    }
    if (this.first === this.chunks.length) {
      this.chunks = [];
      this.first = 0;
    } else if (this.first > 1024 && this.first * 2 > this.chunks.length) {
      this.chunks = this.chunks.slice(this.first);
      this.first = 0;
    }
  }
}
