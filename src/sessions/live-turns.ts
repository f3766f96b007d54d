import type { Reassembled } from '../exchange.js';
import { asObject, parseJson, type JsonObject } from '../providers/json.js';
import { promptTokens, usageOutputTokens } from '../providers/usage-totals.js';
import type { ExchangeRow, WsMessageRow } from '../recorder/db.js';
import { responseShares } from '../cost/response-shares.js';
import type { PriceInput, PriceResult } from '../cost/price-exchange.js';
import { liveReducer, readLiveSetup } from '../websocket/gemini-live.js';
import { wsPayloadText, type RecordedRequest } from '../websocket/reduce.js';
import { readGeminiContents } from './conversation-gemini.js';
import type { SessionRequestTurn } from './ws-turns.js';

/**
 * A recorded Gemini Live session read turn by turn (`show`, the UI): one turn per model
 * turn in its message log, with what the user said before it (clientContent, realtime
 * text, the transcription of their speech, tool results), the answer, its tokens and its
 * share of the session's cost. The conversation of each turn is the session so far, as a
 * generateContent request would carry it (the setup's system prompt and tools first), so
 * the turn view shows what each turn added. Undefined when the row is not such a session
 * or its log holds no model turn. Pure.
 */
export function liveSessionTurns(row: SessionRow, messages: readonly WsMessageRow[], price?: (input: PriceInput) => PriceResult): SessionRequestTurn[] | undefined {
  if (!isLiveSession(row) || messages.length === 0) return undefined;
  const { turns, inputs, setup } = readLog(messages);
  if (turns.length === 0) return undefined;
  // Each input goes to the first model turn that began after it (or as it came).
  const asked: Input[][] = turns.map(() => []);
  for (const input of inputs) {
    const i = turns.findIndex((t) => input.at <= t.firstAt);
    if (i >= 0) asked[i]!.push(input);
  }
  const requests: RecordedRequest[] = turns.map((t, i) => ({ event: {}, at: asked[i]![0]?.at ?? t.firstAt, answer: t.answer, ...(t.answer.model !== undefined ? { model: t.answer.model } : {}) }));
  const costs = turnCosts(row, requests, price);
  const history: JsonObject[] = [];
  return turns.map((t, i) => {
    for (const input of asked[i]!) if (input.content) history.push(input.content);
    const conversation = readGeminiContents({ ...setup, contents: [...history] });
    history.push({ role: 'model', parts: modelParts(t.answer) });
    const startedAt = requests[i]!.at!;
    const usage = t.answer.usage;
    const turn: SessionRequestTurn = {
      startedAt,
      latencyMs: t.answer.stopReason === undefined ? null : Math.max(0, t.lastAt - startedAt),
      model: t.answer.model ?? row.model,
      promptTokens: promptTokens({ api: 'gemini.live', input_tokens: usage?.inputTokens ?? null, cached_input_tokens: usage?.cachedInputTokens ?? null, cache_creation_input_tokens: null }),
      cachedTokens: usage?.cachedInputTokens ?? 0,
      outputTokens: usageOutputTokens(usage, 'gemini.live', row.provider ?? undefined) ?? null,
      costUsd: costs[i]!,
      answer: {
        text: t.answer.text,
        thinking: t.answer.thinking ?? null,
        toolCalls: t.answer.toolCalls.map((c) => ({ id: c.id ?? null, name: c.name, arguments: c.arguments })),
        stopReason: t.answer.stopReason ?? null,
      },
    };
    if (conversation) turn.conversation = conversation;
    return turn;
  });
}

/** A stored Live message's text: a text frame's, or the JSON a binary frame holds; undefined for one that could not be read. */
export function storedLiveText(m: Pick<WsMessageRow, 'error' | 'text' | 'data' | 'opcode'>): string | undefined {
  return m.error !== null ? undefined : m.text ?? (m.data ? wsPayloadText('gemini.live', m.opcode, m.data) : undefined);
}

/** Whether a row is a Gemini Live session whose turns can be read from its message log. */
export function isLiveSession(row: Pick<ExchangeRow, 'api' | 'status'>): boolean {
  return row.status === 101 && row.api === 'gemini.live';
}

type SessionRow = Pick<ExchangeRow, 'api' | 'status' | 'started_at' | 'model' | 'provider' | 'host' | 'cost_usd' | 'cost_source'>;

/** Something the user said, as a Gemini content (none for audio and video), and when. */
interface Input {
  at: number;
  content?: JsonObject;
}

interface ModelTurn {
  answer: Reassembled;
  /** When its first and last server messages came (epoch ms). */
  firstAt: number;
  lastAt: number;
}

/** The log read once: the model turns (the session's own reducer), the user's inputs, the setup's system prompt and tools. */
function readLog(messages: readonly WsMessageRow[]): { turns: ModelTurn[]; inputs: Input[]; setup: JsonObject } {
  const turns: ModelTurn[] = [];
  const inputs: Input[] = [];
  let setup: JsonObject = {};
  let firstAt: number | undefined;
  let lastAt = 0;
  const reducer = liveReducer(undefined, (answer) => {
    turns.push({ answer, firstAt: firstAt ?? lastAt, lastAt });
    firstAt = undefined;
  });
  for (const m of [...messages].sort((a, b) => a.seq - b.seq)) {
    const text = storedLiveText(m);
    if (text === undefined) continue;
    const truncated = m.truncated === 1;
    const body = truncated ? undefined : asObject(parseJson(text));
    if (m.direction === 'client') {
      const read = readLiveSetup({ text, truncated });
      const asked = asObject(read?.event.setup);
      if (asked) setup = { systemInstruction: asked.systemInstruction, tools: asked.tools };
      if (body) inputs.push(...clientInputs(body).map((content) => (content ? { at: m.at, content } : { at: m.at })));
      // Cut at the capture limit (a long audio chunk): no text to show, but the turn began when it came.
      else if (text.startsWith('{"realtimeInput"')) inputs.push({ at: m.at });
    } else {
      const heard = asObject(asObject(body?.serverContent)?.inputTranscription)?.text;
      if (typeof heard === 'string' && heard !== '') inputs.push({ at: m.at, content: { role: 'user', parts: [{ text: heard }] } });
    }
    reducer.push({ direction: m.direction, text, truncated });
    if (m.direction === 'server' && modelSide(body)) {
      firstAt ??= m.at;
      lastAt = m.at;
    }
  }
  reducer.finish();
  return { turns, inputs, setup };
}

/** Whether a server message is the model's (not the setup's answer, nor only the transcription of the user's speech). */
function modelSide(body: JsonObject | undefined): boolean {
  if (!body || body.setupComplete !== undefined || body.goAway !== undefined) return false;
  const content = asObject(body.serverContent);
  return !content || Object.keys(content).some((k) => k !== 'inputTranscription') || body.usageMetadata !== undefined;
}

/** A client message's contents: clientContent turns, realtime text, tool results; audio and video are one content-less input. */
function clientInputs(body: JsonObject): Input['content'][] {
  const content = asObject(body.clientContent);
  if (content && Array.isArray(content.turns)) return (content.turns as unknown[]).map((t) => asObject(t)).filter((t): t is JsonObject => t !== undefined);
  const text = asObject(body.realtimeInput)?.text;
  if (typeof text === 'string') return [{ role: 'user', parts: [{ text }] }];
  const responses = asObject(body.toolResponse)?.functionResponses;
  if (Array.isArray(responses)) return [{ role: 'function', parts: responses.map((r) => ({ functionResponse: r })) }];
  return body.realtimeInput !== undefined ? [undefined] : [];
}

function modelParts(answer: Reassembled): JsonObject[] {
  const parts: JsonObject[] = answer.text === '' ? [] : [{ text: answer.text }];
  for (const c of answer.toolCalls) parts.push({ functionCall: { ...(c.id !== undefined ? { id: c.id } : {}), name: c.name, args: parseJson(c.arguments) ?? {} } });
  return parts;
}

/** Each turn's part of the session's recorded cost (responseShares), as long as there is one to share. */
function turnCosts(row: SessionRow, requests: readonly RecordedRequest[], price: ((input: PriceInput) => PriceResult) | undefined): (number | null)[] {
  const total = row.cost_usd;
  if (total === null || requests.length === 1) return requests.map(() => total);
  const base = { host: row.host, api: 'gemini.live', at: row.started_at, subscription: row.cost_source === 'api_equivalent', ...(row.provider ? { provider: row.provider } : {}), ...(row.model ? { model: row.model } : {}) };
  return responseShares(requests, base, price).map((share) => total * share);
}
