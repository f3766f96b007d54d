/**
 * Google's Gemini Live API (BidiGenerateContent over WebSocket, Gemini API and Vertex AI)
 * read into meaning. Pure.
 *
 * The client sends `setup` first (its `model` is `models/…`, or Vertex's
 * `projects/…/publishers/google/models/…`), then `clientContent`, `realtimeInput`
 * (audio, video, text) and `toolResponse` messages. The server answers `setupComplete`,
 * then per model turn `serverContent` chunks (modelTurn parts, transcriptions,
 * `generationComplete`, `turnComplete`, `interrupted`), `toolCall`s, and `usageMetadata`.
 *
 * Usage: each model turn re-reads the whole session's context and is billed on its own,
 * so a turn's usage snapshot is counted once per turn and the turns are summed (its
 * prompt count grows turn by turn). Snapshots within one turn are cumulative: the last
 * one of a turn is the turn's. A turn ends at `turnComplete`, `interrupted` or a
 * `toolCall` (the model waits for the tool's answer; what follows is another turn);
 * a snapshot sent just after that end belongs to it.
 */
import type { Reassembled, ResponsePart, ToolCall, Usage } from '../exchange.js';
import { asObject, parseJson, type JsonObject } from '../providers/json.js';
import { addModalityTokens } from '../providers/gemini-modalities.js';
import { sumUsage } from '../providers/usage-totals.js';
import type { WsReducer } from './reduce.js';

/**
 * Whether an upgrade's path is a Live session: `/ws/…GenerativeService.BidiGenerateContent`
 * (v1beta, v1alpha), `…BidiGenerateContentConstrained` (ephemeral tokens), Vertex AI's
 * `/ws/…LlmBidiService/BidiGenerateContent`.
 */
export function isGeminiLivePath(path: string): boolean {
  // @google/genai asks for `//ws/…` (its base URL ends in a slash).
  const bare = path.split(/[?#]/)[0]!.replace(/\/+$/, '').replace(/^\/+/, '/');
  return bare.startsWith('/ws/') && /[./]BidiGenerateContent(?:Constrained)?$/.test(bare);
}

/** The model a setup names, without its resource prefix (`models/`, Vertex's `projects/…/models/`). */
export function liveModelName(raw: unknown): string | undefined {
  if (typeof raw !== 'string') return undefined;
  const at = raw.lastIndexOf('models/');
  const name = at < 0 ? raw : raw.slice(at + 'models/'.length);
  return name === '' ? undefined : name;
}

const SETUP_START = /^\{\s*"setup"\s*:/;

/**
 * A client's `setup` message and the model it names; undefined for any other message. A
 * message cut at the capture limit cannot be parsed whole: its prefix is searched for the
 * setup and its model instead (the SDKs write `setup` and `model` first).
 */
export function readLiveSetup(message: { text?: string; truncated: boolean | number }): { model?: string; event: Record<string, unknown> } | undefined {
  const text = message.text;
  // A Live message has one field: anything else (audio by the second) is known by its first bytes, unparsed.
  if (text === undefined || !SETUP_START.test(text)) return undefined;
  if (!message.truncated) {
    const event = asObject(parseJson(text));
    const setup = asObject(event?.setup);
    return event && setup ? { model: liveModelName(setup.model), event } : undefined;
  }
  const found = /"model"\s*:\s*"((?:[^"\\]|\\.)+)"/.exec(text);
  return { model: found ? liveModelName(parseJson(`"${found[1]}"`)) : undefined, event: {} };
}

/**
 * usageMetadata in llmtap's terms. Live says responseTokenCount (Vertex may say
 * candidatesTokenCount); thoughts are counted apart, as in generateContent; a built-in
 * tool's prompt (toolUsePromptTokenCount) is billed as input. The per-modality details
 * give the audio, image and video parts (gemini-modalities.ts): when details are sent, a
 * side without audio has 0 audio tokens, which tells the price the text rate applies.
 */
export function readLiveUsage(raw: JsonObject | undefined): Usage | undefined {
  if (!raw) return undefined;
  const usage: Usage = {};
  const num = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);
  const prompt = num(raw.promptTokenCount);
  const toolPrompt = num(raw.toolUsePromptTokenCount);
  const input = prompt !== undefined && toolPrompt !== undefined ? prompt + toolPrompt : prompt;
  if (input !== undefined) usage.inputTokens = input;
  const output = num(raw.responseTokenCount) ?? num(raw.candidatesTokenCount);
  if (output !== undefined) usage.outputTokens = output;
  const cached = num(raw.cachedContentTokenCount);
  if (cached !== undefined) usage.cachedInputTokens = cached;
  const thoughts = num(raw.thoughtsTokenCount);
  if (thoughts !== undefined) usage.reasoningTokens = thoughts;
  if (Object.keys(usage).length === 0) return undefined;
  addModalityTokens(raw, usage, true);
  return usage;
}

/** Close codes that end a session without an error (RFC 6455 §7.4.1: normal closure, going away). */
const NORMAL_CLOSES = new Set([1000, 1001]);

/**
 * The stop reason of a Live session the server ended with an error close (Google closes
 * one with 1011 and "Internal error encountered.", 1007 for an invalid argument, 1008 for
 * a quota or a model it does not serve): `close CODE: REASON`, or `close CODE`. Undefined
 * for a normal close and a close without a status code.
 */
export function liveCloseStop(payload: Buffer): string | undefined {
  if (payload.length < 2) return undefined;
  const code = payload.readUInt16BE(0);
  if (NORMAL_CLOSES.has(code)) return undefined;
  const reason = payload.subarray(2).toString('utf8').trim();
  return reason === '' ? `close ${code}` : `close ${code}: ${reason}`;
}

/** One model turn: what it said, its tool calls, its last usage snapshot, how it ended. */
interface LiveTurn {
  text: string;
  transcript: string;
  thinking: string;
  toolCalls: ToolCall[];
  usage?: Usage;
  ended?: string;
  told: boolean;
}

const newTurn = (): LiveTurn => ({ text: '', transcript: '', thinking: '', toolCalls: [], told: false });
const isEmpty = (t: LiveTurn): boolean => t.text === '' && t.transcript === '' && t.thinking === '' && t.toolCalls.length === 0 && !t.usage && !t.ended;

/**
 * A Live session's reducer. `onResponse`: each model turn once it has ended and its usage
 * came (or the next turn began without it), with its model and usage, while the session
 * goes on (budgets charge it then); a turn the session never ended is not told.
 * `onTurn`: each model turn once it is over, the last one too (reading an archive).
 */
export function liveReducer(onResponse?: (part: ResponsePart, whole: Reassembled) => void, onTurn?: (turn: Reassembled) => void): WsReducer {
  const turns: LiveTurn[] = [];
  let current = newTurn();
  let model: string | undefined;
  let events = 0;
  /** The server's error close (liveCloseStop): the session's stop reason, over its last turn's. */
  let closedWith: string | undefined;
  const partOf = (t: LiveTurn): ResponsePart => ({ ...(model !== undefined ? { model } : {}), ...(t.usage ? { usage: t.usage } : {}) });
  const tell = (t: LiveTurn): void => {
    if (t.told || !t.ended) return;
    t.told = true;
    onResponse?.(partOf(t), result(false));
  };
  /** The current turn is done with: kept, told when it ended, and the next one begins. */
  const next = (): void => {
    if (!isEmpty(current)) {
      turns.push(current);
      onTurn?.(turnOf(current));
    }
    tell(current);
    current = newTurn();
  };
  const turnOf = (t: LiveTurn): Reassembled => {
    const out: Reassembled = { text: t.text || t.transcript, toolCalls: t.toolCalls, events: 0 };
    if (model !== undefined) out.model = model;
    if (t.thinking !== '') out.thinking = t.thinking;
    if (t.usage) out.usage = t.usage;
    if (t.ended) out.stopReason = t.ended;
    return out;
  };
  const result = (withCurrent: boolean): Reassembled => {
    const all = withCurrent && !isEmpty(current) ? [...turns, current] : turns;
    const said = all.map((t) => t.text || t.transcript).filter((s) => s !== '');
    const thought = all.map((t) => t.thinking).filter((s) => s !== '');
    const out: Reassembled = { text: said.join('\n\n'), toolCalls: all.flatMap((t) => t.toolCalls), events };
    if (model !== undefined) out.model = model;
    if (thought.length > 0) out.thinking = thought.join('\n\n');
    const usage = sumUsage(all.map((t) => t.usage));
    if (usage) out.usage = usage;
    const used = all.filter((t) => t.usage);
    if (used.length > 0) out.responses = used.map(partOf);
    const stop = closedWith ?? [...all].reverse().find((t) => t.ended)?.ended;
    if (stop !== undefined) out.stopReason = stop;
    if (all.length > 0) out.requests = all.length;
    return out;
  };
  const onServer = (message: JsonObject): void => {
    events++;
    const content = asObject(message.serverContent);
    const toolCall = asObject(message.toolCall);
    const parts = asObject(content?.modelTurn)?.parts;
    const transcript = asObject(content?.outputTranscription)?.text;
    const says = Array.isArray(parts) || typeof transcript === 'string' || toolCall !== undefined;
    // What the model says after its turn ended is its next turn.
    if (says && current.ended) next();
    const endedBefore = current.ended !== undefined;
    if (Array.isArray(parts)) {
      for (const raw of parts) {
        const part = asObject(raw);
        if (typeof part?.text !== 'string') continue;
        if (part.thought === true) current.thinking += part.text;
        else current.text += part.text;
      }
    }
    if (typeof transcript === 'string') current.transcript += transcript;
    if (toolCall) {
      for (const raw of Array.isArray(toolCall.functionCalls) ? toolCall.functionCalls : []) {
        const call = asObject(raw);
        if (typeof call?.name !== 'string') continue;
        current.toolCalls.push({ ...(typeof call.id === 'string' ? { id: call.id } : {}), name: call.name, arguments: JSON.stringify(call.args ?? {}) });
      }
      current.ended ??= 'tool_call';
    }
    if (content?.interrupted === true) current.ended = 'interrupted';
    if (content?.turnComplete === true) current.ended ??= typeof content.turnCompleteReason === 'string' ? content.turnCompleteReason : 'turn_complete';
    const usage = readLiveUsage(asObject(message.usageMetadata));
    if (usage) {
      // A turn that had ended, its usage already known: this snapshot is the next turn's.
      if (endedBefore && current.usage) next();
      current.usage = usage;
    }
    if (current.ended && current.usage) tell(current);
  };
  return {
    push(message) {
      if (!message.text.startsWith('{')) return;
      if (message.direction === 'client') {
        const setup = readLiveSetup({ text: message.text, truncated: message.truncated ?? false });
        if (setup?.model !== undefined) model = setup.model;
        return;
      }
      const event = asObject(parseJson(message.text));
      if (event) onServer(event);
    },
    close(direction, payload) {
      if (direction === 'server') closedWith ??= liveCloseStop(payload);
    },
    finish() {
      if (turns.length === 0 && isEmpty(current) && model === undefined && events === 0 && closedWith === undefined) return undefined;
      if (!isEmpty(current)) onTurn?.(turnOf(current));
      return result(true);
    },
  };
}
