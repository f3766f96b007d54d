import type { ArchiveReader } from '../../archive/store.js';
import { estimatesDue } from '../../cli/estimate-wait.js';
import { sessionJson } from '../../cli/sessions.js';
import type { PriceOverrides } from '../../cost/override-match.js';
import { threadsJson } from '../../sessions/turns-json.js';
import { isAsideRow, sessionThreads } from '../../sessions/turns.js';
import { canSee, type Viewer } from './access.js';
import { pricesFor } from './prices-for.js';
import { threadRequestDiffs } from './request-diff.js';

export interface SessionPageQuery {
  id: string;
  viewer: Viewer;
  /** The proxy's --prices overrides (a Codex session's cost is shared among its requests by them). */
  prices: PriceOverrides | undefined;
}

/**
 * The web UI's session view (`/ui/api/sessions/ID`) as JSON text: what `show --json`
 * prints for a session, plus the diffs between consecutive requests; undefined when there
 * is none the viewer may see. `token_counts`: the token counts asked in the session (no
 * turns: sessions/group-aside.ts), which `show` counts in its header. It decodes and parses every request body of the session
 * (~0.1 s per 100 turns), so the proxy runs it in the report thread (report-worker.ts),
 * off the event loop that relays traffic. It crosses back as UTF-8 bytes, as the exchange
 * page does (exchange-page.ts): sending a long string costs the main thread its encoding.
 */
export async function sessionPage(reader: ArchiveReader, query: SessionPageQuery): Promise<Uint8Array | undefined> {
  const { id, viewer } = query;
  const found = reader.session(id);
  // A user who is not an admin sees only their own exchanges of a session, and no session without any.
  const detail = found && (viewer.admin ? found : { ...found, exchanges: found.exchanges.filter((e) => canSee(viewer, e.client_user)) });
  if (!detail || detail.exchanges.length === 0 && !viewer.admin) return undefined;
  // Costs as `show --json` gives them (usdFigure), the session's own as `sessions --json`.
  const reading = { messagesOf: (ex: string) => reader.wsMessages(ex), price: await pricesFor(detail.exchanges, query.prices) };
  // Tokens of an answer still awaiting the writer's estimate read 0 for a moment: the page asks again while `estimates_due`.
  const due = estimatesDue(reader.awaitingEstimates([id]));
  const tokenCounts = detail.exchanges.filter(isAsideRow).length;
  return new TextEncoder().encode(JSON.stringify({ session: sessionJson(detail.session), threads: threadsJson(sessionThreads(detail, reading)), diffs: threadRequestDiffs(detail.exchanges), token_counts: tokenCounts, ...(due ? { estimates_due: true } : {}) }));
}
