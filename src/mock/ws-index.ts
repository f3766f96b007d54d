import { commonPrefix, firstDifference } from './first-difference.js';
import { keyOf } from './recording.js';
import { wsUpgradeCanonical, type ServerMessage, type WsRecording, type WsTurn } from './ws-recording.js';

export type WsAnswer =
  | { hit: ServerMessage[]; exchangeId: string; repeat: boolean }
  | { miss: { key: string; nearest?: { exchangeId: string; difference: string } } };

interface Entry {
  recording: WsRecording;
  turn: WsTurn;
  used: boolean;
}

/** The recorded sessions of one upgrade (method, host, canonical path). */
interface Upgrade {
  sessions: WsRecording[];
  opened: number;
  byKey: Map<string, Entry[]>;
}

/**
 * The recorded WebSocket sessions a mock answers from, grouped by canonical upgrade.
 * A live connection opens the next recorded session of its upgrade (in recorded order,
 * the last one again once all are used) and gets that session's opening messages; each
 * client message is then answered with the replies of a recorded turn with the same
 * canonical message: first an unused one of the opened session, then an unused one of
 * any session of the upgrade, then the last one again. Pure: no sockets, no clock.
 */
export class WsMockIndex {
  private readonly byUpgrade = new Map<string, Upgrade>();
  readonly size: number;

  constructor(recordings: Iterable<WsRecording>) {
    let n = 0;
    for (const r of [...recordings].sort((a, b) => a.startedAt - b.startedAt || (a.exchangeId < b.exchangeId ? -1 : 1))) {
      let up = this.byUpgrade.get(r.upgradeKey);
      if (!up) this.byUpgrade.set(r.upgradeKey, (up = { sessions: [], opened: 0, byKey: new Map() }));
      up.sessions.push(r);
      for (const turn of r.turns) {
        const list = up.byKey.get(turn.key);
        const entry = { recording: r, turn, used: false };
        if (list) list.push(entry);
        else up.byKey.set(turn.key, [entry]);
      }
      n++;
    }
    this.size = n;
  }

  /** The conversation for a live upgrade, or undefined when nothing was recorded on it. */
  open(provider: string | undefined, host: string, path: string): WsConversation | undefined {
    const up = this.byUpgrade.get(keyOf(wsUpgradeCanonical(provider, host, path)));
    if (!up) return undefined;
    const recording = up.sessions[Math.min(up.opened, up.sessions.length - 1)]!;
    up.opened++;
    return new WsConversation(up, recording);
  }

  /** Recorded turns never answered (the end-of-run summary counts them). */
  unusedTurns(): number {
    let n = 0;
    for (const up of this.byUpgrade.values()) for (const list of up.byKey.values()) n += list.filter((e) => !e.used).length;
    return n;
  }
}

export class WsConversation {
  constructor(private readonly up: Upgrade, readonly recording: WsRecording) {}

  /** Server messages to send right after the 101. */
  get opening(): ServerMessage[] {
    return this.recording.opening;
  }

  /** The replies to a client message (its canonical text, wsMessageCanonical). */
  answer(canonical: string): WsAnswer {
    const key = keyOf(canonical);
    const list = this.up.byKey.get(key);
    if (!list) return { miss: { key, nearest: this.nearest(canonical) } };
    const entry = list.find((e) => !e.used && e.recording === this.recording) ?? list.find((e) => !e.used);
    if (entry) {
      entry.used = true;
      return { hit: entry.turn.replies, exchangeId: entry.recording.exchangeId, repeat: false };
    }
    const last = list[list.length - 1]!;
    return { hit: last.turn.replies, exchangeId: last.recording.exchangeId, repeat: true };
  }

  /** The recorded client message of this upgrade sharing the longest canonical prefix, of the same kind (text/binary). */
  private nearest(canonical: string): { exchangeId: string; difference: string } | undefined {
    const kind = canonical.slice(0, canonical.indexOf('\n') + 1);
    let best: Entry | undefined;
    let bestLen = -1;
    for (const list of this.up.byKey.values()) {
      const e = list[0]!;
      if (!e.turn.canonical.startsWith(kind)) continue;
      const len = commonPrefix(e.turn.canonical, canonical);
      if (len > bestLen) {
        best = e;
        bestLen = len;
      }
    }
    return best ? { exchangeId: best.recording.exchangeId, difference: firstDifference(best.turn.canonical, canonical) } : undefined;
  }
}
