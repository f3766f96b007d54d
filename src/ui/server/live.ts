import type { ServerResponse } from 'node:http';
import type { PriceOverrides } from '../../cost/override-match.js';
import type { Exchange } from '../../exchange.js';
import { exchangeToRow } from '../../recorder/rows.js';
import type { priceOf } from '../../recorder/row-cost.js';
import type { WrittenExchange } from '../../recorder/writer.js';
import type { Redactor } from '../../redact/redactor.js';
import { canSee, type Viewer } from './access.js';
import { listItem, type UiListItem } from './list-item.js';
import type { EstimatedPart } from '../../archive/estimated-part.js';
import { usdFigure } from '../../archive/stats-json.js';

/** A comment line this often keeps idle streams open through proxies and load balancers. */
const HEARTBEAT_MS = 25_000;

interface Subscriber {
  res: ServerResponse;
  viewer: Viewer;
}

/** What a live row learns once its exchange is written: the `written` event's data is a list of these. */
export interface UiWrittenItem {
  id: string;
  sessionId: string | null;
  threadId: string | null;
  turn: number | null;
  costUsd: number | null;
  apiEquivalent: boolean;
  /** Tokens llmtap estimated once the row was written (the live row had none, or the input only): shown with `~` (on the output alone for `part: 'output'`). */
  estimated?: { promptTokens: number; outputTokens: number | null; part: EstimatedPart };
}

export interface LiveSources {
  prices: () => PriceOverrides | undefined;
  redactor: () => Redactor;
  /** Subscribes to the recorder's per-batch reports of what was written (Recorder.onWritten); returns the unsubscribe. */
  watchWritten: (observer: (written: readonly WrittenExchange[]) => void) => () => void;
}

/**
 * Server push of finished exchanges to the web UI (Server-Sent Events on
 * /ui/api/live). Fed by the recorder's observer as each exchange is handed to the
 * archive: no polling. Nothing is built while nobody is watching. Sessions are
 * assigned later, in the archive's writer thread: while someone watches, the hub
 * listens to the writer's reports and sends a `written` event that completes the rows.
 */
export class LiveHub {
  private readonly subscribers = new Set<Subscriber>();
  private heartbeat: NodeJS.Timeout | undefined;
  /** Set while anyone watches: the writer then reports what it assigned (it does not otherwise). */
  private unwatchWritten: (() => void) | undefined;
  /**
   * The archive's pricing (row-cost.ts, with the price data), loaded when someone first
   * watches: a proxy nobody watches live does not hold the price data on its event loop.
   */
  private pricing: Promise<void> | undefined;
  private priceOf: typeof priceOf | undefined;

  constructor(private readonly sources: LiveSources) {}

  get size(): number {
    return this.subscribers.size;
  }

  async subscribe(res: ServerResponse, viewer: Viewer, headers: Record<string, string>): Promise<void> {
    // Rows are priced from the first one this viewer gets.
    // (Should it fail to load, rows go out unpriced and the `written` event brings the archive's cost.)
    await (this.pricing ??= import('../../cost/load-pricing.js').then((m) => m.loadPricing()).then((p) => void (this.priceOf = p.priceOf), () => undefined));
    if (res.destroyed) return;
    res.writeHead(200, { ...headers, 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
    // Tells the browser's EventSource how soon to reconnect, and flushes the head.
    res.write('retry: 2000\n\n');
    const sub = { res, viewer };
    this.subscribers.add(sub);
    res.once('close', () => {
      this.subscribers.delete(sub);
      if (this.subscribers.size === 0) this.stopHeartbeat();
    });
    this.unwatchWritten ??= this.sources.watchWritten(this.onWritten);
    this.heartbeat ??= setInterval(() => this.broadcast(': keep-alive\n\n', () => true), HEARTBEAT_MS).unref();
  }

  /** The recorder's observer: one `exchange` event per finished exchange, to the viewers allowed to see it. */
  readonly onExchange = (ex: Exchange): void => {
    if (this.subscribers.size === 0 || ex.websocket) return;
    const item = liveItem(ex, this.sources.prices(), this.sources.redactor(), this.priceOf);
    const frame = `event: exchange\nid: ${item.id}\ndata: ${JSON.stringify(item)}\n\n`;
    this.broadcast(frame, (viewer) => canSee(viewer, item.user));
  };

  /** The writer's report for one committed batch: one `written` event per viewer, with the rows they may see. */
  readonly onWritten = (written: readonly WrittenExchange[]): void => {
    const items = written.map((w) => ({ user: w.user, item: writtenItem(w) }));
    for (const sub of this.subscribers) {
      if (sub.res.destroyed) continue;
      const visible = items.filter((i) => canSee(sub.viewer, i.user)).map((i) => i.item);
      if (visible.length > 0) sub.res.write(`event: written\ndata: ${JSON.stringify(visible)}\n\n`);
    }
  };

  /** Ends the streams of viewers `stale` names (a reload changed who they are): the page reconnects and logs in again. */
  endStreams(stale: (viewer: Viewer) => boolean): void {
    for (const sub of this.subscribers) {
      if (!stale(sub.viewer)) continue;
      this.subscribers.delete(sub);
      sub.res.end();
    }
    if (this.subscribers.size === 0) this.stopHeartbeat();
  }

  /** Ends every stream (shutdown), so connections do not wait for the drain deadline. */
  close(): void {
    this.stopHeartbeat();
    for (const sub of this.subscribers) sub.res.end();
    this.subscribers.clear();
  }

  private broadcast(frame: string, allowed: (viewer: Viewer) => boolean): void {
    for (const sub of this.subscribers) if (allowed(sub.viewer) && !sub.res.destroyed) sub.res.write(frame);
  }

  private stopHeartbeat(): void {
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    this.unwatchWritten?.();
    this.unwatchWritten = undefined;
  }
}

/**
 * The list row of an exchange not yet in the archive: the same redacting mapping the
 * archive uses, priced as the archive prices it (`price`: row-cost.ts priceOf; without
 * it, the price a budget charge already put on the exchange, if any). Session and
 * thread are assigned as the row is written, so they are null here (a `written` event
 * brings them, and the archive's cost).
 */
export function liveItem(ex: Exchange, prices: PriceOverrides | undefined, redactor?: Redactor, price?: typeof priceOf): UiListItem {
  const row = exchangeToRow(ex, redactor);
  const priced = price ? price(ex, prices) : ex.price;
  return listItem({ ...row, cost_usd: priced?.usd ?? null, cost_source: priced?.source ?? null });
}

export function writtenItem(w: WrittenExchange): UiWrittenItem {
  const item: UiWrittenItem = { id: w.id, sessionId: w.sessionId, threadId: w.threadId, turn: w.turn, costUsd: usdFigure(w.costUsd), apiEquivalent: w.costSource === 'api_equivalent' };
  if (w.estimated) item.estimated = w.estimated;
  return item;
}
