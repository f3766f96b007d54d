import { commonPrefix, firstDifference } from './first-difference.js';
import { keyOf, type Recording } from './recording.js';

export type MockMatch =
  | { hit: Recording; repeat: boolean }
  | { miss: { key: string; nearest?: { exchangeId: string; difference: string } } };

/**
 * The recordings a mock answers from, by canonical key. Several recordings of one
 * key (an agent asking the same thing again) are served in recorded order, each
 * once; after the last is used it is served again for every further request.
 */
export class MockIndex {
  private readonly byKey = new Map<string, Recording[]>();
  private readonly used = new Map<string, number>();
  readonly size: number;

  constructor(recordings: Iterable<Recording>) {
    let n = 0;
    for (const r of [...recordings].sort((a, b) => a.startedAt - b.startedAt || (a.exchangeId < b.exchangeId ? -1 : 1))) {
      const list = this.byKey.get(r.key);
      if (list) list.push(r);
      else this.byKey.set(r.key, [r]);
      n++;
    }
    this.size = n;
  }

  /** The answer for a request's canonical text; a miss names the key and the nearest recorded request. */
  take(canonical: string): MockMatch {
    const key = keyOf(canonical);
    const list = this.byKey.get(key);
    if (!list) return { miss: { key, nearest: this.nearest(canonical) } };
    const next = this.used.get(key) ?? 0;
    this.used.set(key, next + 1);
    return { hit: list[Math.min(next, list.length - 1)]!, repeat: next >= list.length };
  }

  /** Recordings never served (the end-of-run summary lists them: a client that took another path). */
  unused(): Recording[] {
    const out: Recording[] = [];
    for (const [key, list] of this.byKey) out.push(...list.slice(this.used.get(key) ?? 0));
    return out.sort((a, b) => a.startedAt - b.startedAt);
  }

  /** The recording sharing the longest canonical prefix with the request, among those on the same request line. */
  private nearest(canonical: string): { exchangeId: string; difference: string } | undefined {
    const line = canonical.slice(0, canonical.indexOf('\n') + 1);
    let best: Recording | undefined;
    let bestLen = -1;
    for (const list of this.byKey.values()) {
      const r = list[0]!;
      if (line && !r.canonical.startsWith(line)) continue;
      const len = commonPrefix(r.canonical, canonical);
      if (len > bestLen) {
        best = r;
        bestLen = len;
      }
    }
    return best ? { exchangeId: best.exchangeId, difference: firstDifference(best.canonical, canonical) } : undefined;
  }
}
