import { exchangeToJson } from '../../archive/export.js';
import { rowModels } from '../../archive/model-parts.js';
import type { ArchiveReader } from '../../archive/store.js';
import type { PriceOverrides } from '../../cost/override-match.js';
import { turnJson } from '../../sessions/turns-json.js';
import { threadTurns } from '../../sessions/turns.js';
import { canSee, type Viewer } from './access.js';
import { curlCommand } from './curl.js';
import { pricesFor } from './prices-for.js';

export interface ExchangePageQuery {
  id: string;
  viewer: Viewer;
  /** The proxy's --prices overrides (a Codex session's cost is shared among its requests by them). */
  prices: PriceOverrides | undefined;
}

/**
 * The web UI's exchange view (`/ui/api/exchanges/ID`) as JSON, UTF-8 encoded: what
 * `export` writes for the exchange, its turns and a curl command; undefined when there is
 * none the viewer may see. It decodes the stored bodies (megabytes of an agent's prompt)
 * and, for a Codex session, parses its whole message log (~0.2 s for 5,000 messages), so
 * the proxy runs it in the report thread (report-worker.ts), off the event loop that
 * relays traffic. It crosses back as bytes, moved rather than copied: the event loop only
 * writes them (sent as a string, encoding a 5 MB prompt's 17 MB page took it ~0.2 s).
 */
export async function exchangePage(reader: Pick<ArchiveReader, 'exchange'>, query: ExchangePageQuery): Promise<Uint8Array | undefined> {
  const detail = reader.exchange(query.id);
  if (!detail || !canSee(query.viewer, detail.row.client_user)) return undefined;
  const exported = exchangeToJson(detail.row, detail.row.status === 101 ? detail.wsMessages : undefined);
  // A Codex session's requests are its turns (as `show EXCHANGE --json` gives them); `turn` is the first.
  // Their costs as `show --json` gives them (usdFigure), as the exported exchange's own.
  const turns = threadTurns([detail.row], { messagesOf: () => detail.wsMessages, price: await pricesFor([detail.row], query.prices) }).map(turnJson);
  // `models`: every model of a session that switched models (the list row's, tail's `gpt-5-codex+gpt-5-mini`).
  const models = rowModels(detail.row);
  // TextEncoder's array owns its buffer (a small Buffer shares a pool), so the thread can give it away.
  return new TextEncoder().encode(JSON.stringify({ ...exported, ...(models.length > 1 ? { models } : {}), turn: turns[0] ?? null, ...(turns.length > 1 ? { turns } : {}), curl: curlCommand(exported) }));
}
