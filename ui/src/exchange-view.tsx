import { useEffect, useMemo, useState } from 'preact/hooks';
import { outputTokens, reportedPromptTokens } from '../../src/providers/usage-totals.js';
import { knownCost } from '../../src/cost/unpriced-count.js';
import { answerImages } from './answer-images.js';
import { getJson, modelText, type ExchangePage } from './api.js';
import { Decisions, Downloads, EstimatedMark, LongText, pretty, Thinking, ToolCall } from './blocks.js';
import { costFact, dateTime, eventData, ms, shortId, tokens, TTFT_TITLE, wsPayload } from './format.js';
import { Status, statusItem } from './list-view.js';
import { Turn } from './turn-card.js';

const COPIED_MS = 2000;

export function ExchangeView({ id }: { id: string }) {
  const [page, setPage] = useState<ExchangePage | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [copied, setCopied] = useState(false);
  useEffect(() => {
    setPage(null);
    // A row pushed live may reach the archive a moment after it reached the list: try once more.
    const load = (retry: boolean) => getJson<ExchangePage>(`/ui/api/exchanges/${encodeURIComponent(id)}`).then(setPage, (err: Error & { status?: number }) => {
      if (retry && err.status === 404) setTimeout(() => load(false), 500);
      else setError(err.message);
    });
    load(true);
  }, [id]);
  // "copied" says the click worked, then the button is a button again for the next copy.
  useEffect(() => {
    if (!copied) return;
    const t = setTimeout(() => setCopied(false), COPIED_MS);
    return () => clearTimeout(t);
  }, [copied]);
  // An image generation's answer is its images: shown, not only counted ("1 image, 1024x1024") above a wall of base64.
  const images = useMemo(() => {
    const res = page?.response;
    return res?.body && res.body_encoding !== 'base64' ? answerImages(res.body, sseEvents(res.body)) : [];
  }, [page]);
  if (error) return <p class="error">{error}</p>;
  if (!page) return <p class="dim">loading…</p>;
  const r = page.response;
  const copy = () => void navigator.clipboard?.writeText(page.curl).then(() => setCopied(true));
  return (
    <section class="exchange">
      <h1><span class="mono">{page.method}</span> {withBreaks(`${page.host}${page.path}`)}</h1>
      <div class="facts">
        <span>{dateTime(page.started_at)}</span>
        <Status item={statusItem(page.status, page.outcome, page.error_code, r?.stop_reason ?? null)} />
        <span>{page.tool?.name ?? 'unknown tool'}</span><span>{modelText(page) ?? '–'}</span>
        <span>in {tokens(reportedPromptTokens({ ...page.usage, api: page.api }))} · cached {tokens(page.usage.cached_input_tokens)} · out {tokens(outputTokens({ ...page.usage, api: page.api }))}{page.usage_estimated_part && <EstimatedMark part={page.usage_estimated_part} />}</span>
        <span class="cost" title={page.turn?.costUnknown ? `cost not known: ${page.turn.costUnknown}` : undefined}>{costFact(knownCost({ ...page.usage, cost_usd: page.cost_usd, outcome: page.outcome, status: page.status }), page.cost_source === 'api_equivalent')}</span>
        <span>{ms(page.duration_ms)} (<span title={TTFT_TITLE}>TTFT</span> {ms(page.ttfb_ms)})</span>
        {page.session_id && <a href={`#/session/${encodeURIComponent(page.session_id)}`}>session {shortId(page.session_id)} · {turnSpan(page)}</a>}
        <Downloads path={`exchanges/${encodeURIComponent(page.id)}`} />
      </div>
      {page.turn?.costUnknown && <p class="dim">cost not known: {page.turn.costUnknown}</p>}
      {page.policy && (
        <div class="policy-box">
          <b>policy</b>
          <Decisions record={page.policy} />
          <details><summary>decision record (JSON)</summary><pre>{JSON.stringify(page.policy, null, 2)}</pre></details>
        </div>
      )}
      {page.turns && (
        <>
          <h2>Requests ({page.turns.length})</h2>
          {page.turns.map((t) => <Turn key={t.turn} turn={t} linkExchange={false} />)}
        </>
      )}
      {!page.turns && r && (r.text || r.thinking || r.tool_calls.length > 0 || images.length > 0) && (
        <div class="msg role-assistant answer">
          <div class="role">answer{r.stop_reason ? <span class="dim"> ({r.stop_reason})</span> : null}</div>
          <div class="blocks">
            {r.thinking && <Thinking text={r.thinking} />}
            {r.text && <LongText text={r.text} />}
            {r.tool_calls.map((c, i) => <ToolCall key={i} name={c.name} args={c.arguments} id={c.id} />)}
            {images.length > 0 && <div class="images">{images.map((src, i) => <AnswerImage key={i} src={src} n={i + 1} />)}</div>}
          </div>
        </div>
      )}
      <h2>Request</h2>
      <Headers headers={page.request.headers} />
      <Body body={page.request.body} encoding={page.request.body_encoding} />
      <h2>Response</h2>
      {r ? <><Headers headers={r.headers} /><Body body={r.body} encoding={r.body_encoding} /></> : <p class="dim">no response</p>}
      {page.websocket && (
        // Read as requests above when it holds several: the frames stay one click away.
        <details class="ws-log" open={!page.turns}>
          <summary><h2>WebSocket messages ({page.websocket.messages.length})</h2></summary>
          <table class="kv">{page.websocket.messages.map((m) => <tr key={m.seq}><th>{m.direction === 'client' ? '→' : '←'} {m.at.slice(11, 23)}</th><td><pre>{wsPayload(m)}</pre></td></tr>)}</table>
        </details>
      )}
      <h2>Copy as curl <button type="button" onClick={copy}>{copied ? 'copied' : 'copy'}</button></h2>
      <p class="dim">Credentials are never shown: the command reads them from the environment.</p>
      <pre class="curl">{page.curl}</pre>
    </section>
  );
}

/** A URL that may wrap after each `/`, `?` or `&` (a phone's line ends at `images/`, not inside `generatio-ns`). */
function withBreaks(url: string) {
  return url.split(/(?<=[/?&])/).map((part, i) => (i === 0 ? part : <><wbr />{part}</>));
}

/** An image of the answer as a thumbnail; a click shows it at its own size (a browser opens no data: URL in a tab of its own). */
function AnswerImage({ src, n }: { src: string; n: number }) {
  const [whole, setWhole] = useState(false);
  return <img src={src} class={whole ? 'whole' : undefined} alt={`image ${n} of the answer`} title={whole ? 'click for the thumbnail' : 'click for its own size'} onClick={() => setWhole(!whole)} />;
}

/** The turns this exchange is in its session: one, or a Codex session's requests. */
function turnSpan(page: ExchangePage): string {
  const turns = page.turns;
  return turns ? `turns ${turns[0]!.turn}–${turns[turns.length - 1]!.turn}` : `turn ${page.turn?.turn ?? '–'}`;
}

function Headers({ headers }: { headers: Record<string, string | string[]> }) {
  return (
    <details class="headers">
      <summary>headers ({Object.keys(headers).length})</summary>
      <table class="kv">
        {Object.entries(headers).map(([k, v]) => <tr key={k}><th>{k}</th><td class="mono">{Array.isArray(v) ? v.join('\n') : v}</td></tr>)}
      </table>
    </details>
  );
}

/** A body pretty-printed (JSON) or as SSE events, with the raw bytes one click away. */
function Body({ body, encoding }: { body: string | null; encoding?: 'base64' }) {
  const [raw, setRaw] = useState(false);
  if (body === null) return <p class="dim">no body stored</p>;
  if (body === '') return <p class="dim">no body</p>;
  if (encoding === 'base64') return <pre class="body">{body}</pre>;
  const events = raw ? [] : sseEvents(body);
  return (
    <div class="body-box">
      <label class="dim"><input type="checkbox" checked={raw} onChange={() => setRaw(!raw)} /> raw</label>
      {events.length > 0 ? (
        <table class="kv sse">{events.map((e, i) => <tr key={i}><th>{e.event}</th><td><pre>{eventData(e.data)}</pre></td></tr>)}</table>
      ) : (
        <pre class="body">{raw ? body : pretty(body)}</pre>
      )}
    </div>
  );
}

/** Server-Sent Events in a body, in order; empty when the body is not an event stream. */
export function sseEvents(body: string): { event: string; data: string }[] {
  if (!/^(event|data):/m.test(body.slice(0, 200))) return [];
  const events: { event: string; data: string }[] = [];
  for (const chunk of body.split(/\r?\n\r?\n/)) {
    let event = 'message';
    const data: string[] = [];
    for (const line of chunk.split(/\r?\n/)) {
      if (line.startsWith('event:')) event = line.slice(6).trim();
      else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
    }
    if (data.length) events.push({ event, data: data.join('\n') });
  }
  return events;
}
