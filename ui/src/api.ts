import type { UiListItem } from '../../src/ui/server/list-item.js';
import type { UiWrittenItem } from '../../src/ui/server/live.js';
import type { RequestDiff } from '../../src/ui/server/request-diff.js';
import type { ThreadView, TurnView } from '../../src/sessions/turns.js';
import type { ExportedExchange } from '../../src/archive/export.js';
import { joinedModels } from '../../src/archive/model-parts.js';

export type { UiListItem, UiWrittenItem, RequestDiff, ThreadView, TurnView };

/** A turn's own key: a Codex WebSocket session is one exchange with a turn per request in it. */
export function turnKey(turn: Pick<TurnView, 'exchangeId' | 'turn'>): string {
  return `${turn.exchangeId}#${turn.turn}`;
}

/** A list row; `pending` while a row pushed live waits for the archive to assign its session. */
export type ListRow = UiListItem & { pending?: boolean };

/** Rows with what the archive assigned to the written ones (the live stream's `written` event). */
export function applyWritten(rows: ListRow[], written: readonly UiWrittenItem[]): ListRow[] {
  const byId = new Map(written.map((w) => [w.id, w]));
  if (!rows.some((r) => byId.has(r.id))) return rows;
  return rows.map((r) => {
    const w = byId.get(r.id);
    if (!w) return r;
    const written: ListRow = { ...r, sessionId: w.sessionId, threadId: w.threadId, turn: w.turn, costUsd: w.costUsd, apiEquivalent: w.apiEquivalent, pending: false };
    // The archive estimated the tokens of an answer that reported none (or the output of one cut short): shown with `~`, as a reload would.
    return w.estimated ? { ...written, promptTokens: w.estimated.promptTokens, outputTokens: w.estimated.outputTokens, estimated: w.estimated.part } : written;
  });
}

/**
 * The list as fetched, plus the rows pushed live that no fetch has held yet (`unfetched`)
 * and this one does not either: the archive had not written them when it was read, newest
 * first. A row is pushed as its exchange ends and written a moment later by the archive's
 * writer, which runs at a lower priority and on a busy machine lags by seconds: a row
 * pushed even before the fetch was sent can be missing from its answer, and vanished
 * with it (its estimate, arriving later, then had no row to go to). A full page reaches
 * back only to its oldest row: an unfetched row older than that belongs to an older page.
 */
export function mergeFetched(fetched: readonly ListRow[], current: readonly ListRow[], unfetched: ReadonlySet<string>, filters: ListFilters): ListRow[] {
  const have = new Set(fetched.map((r) => r.id));
  const oldest = fetched.length >= PAGE_SIZE ? fetched[fetched.length - 1]!.startedAt : undefined;
  const kept = current.filter((r) => unfetched.has(r.id) && !have.has(r.id) && (oldest === undefined || r.startedAt >= oldest) && matchesFilters(r, filters));
  return kept.length === 0 ? [...fetched] : [...kept, ...fetched];
}

/** Rows with others added where their start time puts them (newest first), none twice. */
export function insertByTime(rows: readonly ListRow[], add: readonly ListRow[]): ListRow[] {
  const have = new Set(rows.map((r) => r.id));
  const fresh = add.filter((r) => !have.has(r.id));
  if (fresh.length === 0) return rows as ListRow[];
  return [...rows, ...fresh].sort((a, b) => b.startedAt - a.startedAt);
}

/** How many rows the list and sessions APIs answer unless asked: a page this full may have more behind it. */
export const PAGE_SIZE = 200;

export interface SessionJson {
  id: string; started_at: string; ended_at: string; duration_ms: number; tool: string | null; client: { address: string | null; user: string | null };
  models: string[]; threads: number; turns: number; errors: number; tokens: { input: number; output: number; cached_input: number };
  cost_usd: number | null; unpriced_exchanges: number; api_equivalent: boolean;
  /** Per usage window: the last utilization seen and how much this session used, in percent. */
  quota_burn_percent: Record<string, { last: number; burn: number } | undefined> | null;
}

/** `estimates_due`: an answer of the session still awaits the writer's token estimate (asked again after ESTIMATE_RECHECK_MS). */
/** `token_counts`: the token counts asked in the session, no turns (absent from an older proxy's answer). */
export interface SessionPage { session: SessionJson; threads: ThreadView[]; diffs: Record<string, RequestDiff>; token_counts?: number; estimates_due?: boolean }
export interface SessionList { sessions: SessionJson[]; estimates_due?: boolean }

/**
 * How soon a page that read a row awaiting its token estimate (0 tokens for now) asks again;
 * the server stops saying `estimates_due` a few seconds after the exchange ended.
 */
export const ESTIMATE_RECHECK_MS = 500;
/** `turns`: a Codex session's requests, one turn each, when it had more than one; `models`: every model, when more than one answered. */
export type ExchangePage = ExportedExchange & { turn: TurnView | null; turns?: TurnView[]; models?: string[]; curl: string };

/** The model a row or page names: every one of a session that switched models (`gpt-5-codex+gpt-5-mini`, as tail and the CSV), else its own. */
export function modelText(item: { model: string | null; models?: readonly string[] | undefined }): string | null {
  return item.models ? joinedModels(item.models) : item.model;
}

export class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

export async function getJson<T>(path: string): Promise<T> {
  const res = await fetch(path, { headers: { accept: 'application/json' }, credentials: 'same-origin' });
  const body = (await res.json().catch(() => ({}))) as { error?: { message?: string } };
  if (!res.ok) throw new ApiError(res.status, body.error?.message ?? `HTTP ${res.status}`);
  return body as T;
}

export interface ListFilters { tool: string; model: string; host: string; user: string; status: string; session: string; q: string }

export const NO_FILTERS: ListFilters = { tool: '', model: '', host: '', user: '', status: '', session: '', q: '' };

/** The list's filters from a link's query (`#/?model=gpt-4o`: the usage page's rows link there); unknown keys are ignored. */
export function filtersFromQuery(query: string): ListFilters {
  const params = new URLSearchParams(query);
  const filters = { ...NO_FILTERS };
  for (const key of Object.keys(NO_FILTERS) as (keyof ListFilters)[]) filters[key] = params.get(key) ?? '';
  return filters;
}

/** The list API's address for these filters; `after` (the oldest row shown) for the page of older rows behind it. */
export function listUrl(filters: ListFilters, after?: { startedAt: number; id: string }): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(filters)) if (v.trim()) params.set(k, v.trim());
  // Time and id together: rows sharing the oldest's millisecond are neither skipped nor fetched again.
  if (after !== undefined) { params.set('before', String(after.startedAt)); params.set('before_id', after.id); }
  return `/ui/api/exchanges?${params.toString()}`;
}

/** Whether a live row passes the filters the server would apply (text search is left to the server: a live row has no bodies). */
export function matchesFilters(item: UiListItem, f: ListFilters): boolean {
  if (f.q.trim()) return false;
  if (f.tool && item.tool !== f.tool) return false;
  if (f.model && item.model !== f.model && !item.models?.includes(f.model)) return false;
  if (f.host && item.host !== f.host) return false;
  if (f.user && item.user !== f.user) return false;
  if (f.session && item.sessionId !== f.session) return false;
  const s = f.status.trim().toLowerCase();
  if (s === 'error') return item.failed;
  if (/^[1-5]xx$/.test(s)) return Math.floor((item.status ?? 0) / 100) === Number(s[0]);
  if (/^\d{3}$/.test(s)) return item.status === Number(s);
  return true;
}

/** Who is looking (`/ui/api/me`): asked once per page load, shared by the views that need it. */
export interface Me { user: string | null; admin: boolean; teams: Record<string, string> }

let me: Promise<Me> | undefined;
export function whoAmI(): Promise<Me> {
  return (me ??= getJson<Me>('/ui/api/me').catch(() => ({ user: null, admin: false, teams: {} })));
}
