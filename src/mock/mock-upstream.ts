import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { serveStored } from '../cache/cache-stage.js';
import { LlmtapError } from '../errors.js';
import type { Exchange, WsMessageRecord } from '../exchange.js';
import type { Logger } from '../log.js';
import { storedBody } from '../recorder/stored-body.js';
import type { Redactor } from '../redact/redactor.js';
import type { MockIndex } from './mock-index.js';
import { keyOf, mockCanonical } from './recording.js';
import { WsMockIndex } from './ws-index.js';
import { WsReplay } from './ws-replay.js';
import { wsUpgradeCanonical } from './ws-recording.js';

/** A request the mock had no answer for (the end-of-run summary lists them). */
export interface MockMiss {
  exchangeId: string;
  method: string;
  host: string;
  path: string;
  key: string;
  nearest?: { exchangeId: string; difference: string };
}

/**
 * The upstream of `llmtap mock`: answers an intercepted request from the recordings,
 * or refuses it with `no_recording`. It never forwards anything.
 */
export class MockUpstream {
  served = 0;
  readonly misses: MockMiss[] = [];
  /** WebSocket sessions opened from recordings, and their client messages answered or not. */
  readonly ws = { sessions: 0, answered: 0, misses: [] as MockMiss[] };

  constructor(readonly index: MockIndex, private readonly options: { timing: boolean; logger: Logger }, readonly wsIndex: WsMockIndex = new WsMockIndex([])) {}

  /**
   * An intercepted WebSocket upgrade: a replay of the next recorded session on the same
   * upgrade (method, host, canonical path), or undefined when none was recorded.
   * The caller answers undefined with `no_recording`, adds the replay to its open
   * sessions and starts it.
   */
  upgrade(ex: Exchange, client: Socket, redactor: Redactor, deps: { captureLimit: number; recordMessages(id: string, m: WsMessageRecord[]): void; finished(ex: Exchange): void }): WsReplay | undefined {
    const host = redactor.text(ex.target.host);
    const path = redactor.path(ex.request.path);
    const conversation = this.wsIndex.open(ex.provider, host, path);
    if (!conversation) {
      const key = keyOf(wsUpgradeCanonical(ex.provider, host, path));
      this.misses.push({ exchangeId: ex.id, method: ex.request.method, host: ex.target.host, path: redactor.logPath(ex.request.path), key });
      this.options.logger.warn({ exchange: ex.id, path: redactor.logPath(ex.request.path) }, 'mock: no recorded WebSocket session on this path');
      return undefined;
    }
    this.ws.sessions++;
    return new WsReplay(ex, client, conversation, {
      ...deps,
      timing: this.options.timing,
      redactor,
      logger: this.options.logger,
      answered: (live, answer) => {
        if ('hit' in answer) return void this.ws.answered++;
        const { key, nearest } = answer.miss;
        this.ws.misses.push({ exchangeId: live.id, method: 'WS', host: live.target.host, path: redactor.logPath(live.request.path), key, nearest });
      },
    });
  }

  /**
   * The request is keyed as the archive stored it (decoded, then redacted with the
   * running redactor), so a prompt holding a key-shaped string still meets its
   * recording, whose stored body holds the placeholder.
   */
  async serve(res: ServerResponse, ex: Exchange, captureLimit: number, redactor: Redactor): Promise<void> {
    const stored = storedBody(ex.request.body, ex.request.headers, redactor);
    const canonical = mockCanonical({ provider: ex.provider, method: ex.request.method, host: redactor.text(ex.target.host), path: redactor.path(ex.request.path), body: stored.bytes });
    const found = this.index.take(canonical);
    if ('miss' in found) {
      const { key, nearest } = found.miss;
      this.misses.push({ exchangeId: ex.id, method: ex.request.method, host: ex.target.host, path: redactor.logPath(ex.request.path), key, nearest });
      const near = nearest ? `; nearest recording ${nearest.exchangeId} differs at ${nearest.difference}` : '; nothing recorded on this request line';
      this.options.logger.warn({ exchange: ex.id, key: key.slice(0, 16), nearest: nearest?.exchangeId, difference: nearest ? redactor.text(nearest.difference) : undefined }, 'mock: no recording');
      throw new LlmtapError('no_recording', { detail: redactor.text(`llmtap mock has no recorded answer for this request (key ${key.slice(0, 16)}${near})`) });
    }
    this.served++;
    const r = found.hit;
    await serveStored(res, ex, { status: r.status, headers: r.headers, body: r.body }, captureLimit, this.options.timing ? r.timing : undefined);
  }
}
