import type { ApiKind } from '../exchange.js';
import type { Detector } from './detectors.js';
import type { RedactionHit } from './types.js';

/**
 * Where message text lives in each API's request body: the top-level keys to walk.
 * Inside them only strings that are message text change (see TEXT_KEYS); ids,
 * roles, model names, tool schemas and binary parts (base64 images) never do, so
 * the body keeps its structure and stays valid for the provider.
 */
const ROOTS: Partial<Record<ApiKind, readonly string[]>> = {
  'chat.completions': ['messages', 'prompt'],
  responses: ['input', 'instructions'],
  messages: ['system', 'messages'],
  'messages.countTokens': ['system', 'messages'],
  // OpenAI `input`; Gemini `content` (embedContent) and `requests` (batch), and a document's `title`; Ollama's older /api/embeddings `prompt`;
  // Cohere `texts` and `inputs` (its text parts; image parts are data URIs, left alone).
  embeddings: ['input', 'content', 'requests', 'title', 'prompt', 'texts', 'inputs'],
  'gemini.generateContent': ['contents', 'systemInstruction', 'request'],
  'gemini.countTokens': ['contents', 'generateContentRequest', 'request'],
  'bedrock.converse': ['messages', 'system'],
  'bedrock.invoke': ['messages', 'system', 'prompt', 'inputText'],
  // CountTokens: `input.converse` (messages, system) or `input.invokeModel.body` (the model's own JSON, as a string).
  'bedrock.countTokens': ['input'],
  'ollama.chat': ['messages'],
  'ollama.generate': ['prompt', 'system'],
  // Cohere: the conversation, and the grounding documents sent beside it.
  'cohere.chat': ['messages', 'documents'],
  // Cohere's legacy Chat API: the new turn, the system preamble, the history, tool results sent back, grounding documents.
  'cohere.chat.v1': ['message', 'preamble', 'chat_history', 'tool_results', 'documents'],
  // Text Completions: the prompt (a string or strings; token ids are numbers, left alone) and the fill-in-the-middle suffix.
  completions: ['prompt', 'suffix'],
  // Rerank: the query, and the documents (strings, or objects whose `text` is read).
  rerank: ['query', 'documents'],
  // Moderations: the input (a string, strings, or text parts; an image part's URL is left alone).
  moderations: ['input'],
  // Image generation: the prompt (a JSON body; an edit's multipart upload: redact-form.ts).
  images: ['prompt'],
  // Text to speech: the text spoken and the instructions on how to speak it.
  'audio.speech': ['input', 'instructions'],
  // Gemini Live's client messages (WebSocket; judged by block rules only): the setup's system
  // instruction, a turn's text parts, realtime text, a tool's answer (audio and inline data are base64, left alone).
  'gemini.live': ['setup', 'clientContent', 'realtimeInput', 'toolResponse'],
};

/** True for APIs whose request bodies carry message text redaction reads. */
export function hasMessageText(api: ApiKind | undefined): boolean {
  return api !== undefined && ROOTS[api] !== undefined;
}

/** Keys whose string value (or array of strings) is text a person or a tool wrote. */
const TEXT_KEYS = new Set(['content', 'text', 'input', 'output', 'prompt', 'system', 'instructions', 'arguments', 'inputText', 'tool_plan']);

/**
 * Keys whose object value is free-form data a model or a tool wrote: a tool call's
 * arguments (Anthropic and Bedrock `input`, Gemini `args`, Ollama `arguments`) and a
 * tool's result (Gemini `response`, Bedrock `json`). Every string inside is text,
 * whatever its key (`{command: "curl -H 'Authorization: Bearer sk-…'"}`); keys stay.
 */
const FREE_FORM_KEYS = new Set(['input', 'args', 'arguments', 'response', 'json']);

/**
 * Keys read as text (a string) or free-form (an object) for one API only: Cohere's
 * documents (`documents[].data`, a tool result's `{type: "document", document: {data}}`)
 * are a tool's or the user's data, and its `thinking` parts plain text. Not for every
 * API: Bedrock's `document` and Anthropic's `data` hold base64 bytes, and Anthropic's
 * `thinking` is signed (changed, the request is refused).
 */
const API_FREE_FORM_KEYS: Partial<Record<ApiKind, ReadonlySet<string>>> = {
  'cohere.chat': new Set(['document', 'data', 'thinking']),
  // Chat v1: a turn's `message` (text), a tool call's `parameters`, a tool's `outputs`, and the
  // documents (objects of any keys: `title`, `snippet`, …), every string of which is data.
  'cohere.chat.v1': new Set(['message', 'parameters', 'outputs', 'tool_results', 'documents']),
  // Every string of a CountTokens input is the request it counts: message text, or a whole InvokeModel body.
  'bedrock.countTokens': new Set(['converse', 'invokeModel']),
};

/** How a value is read: its strings as text, its object keys deciding (structure), or every string as text (free-form). */
type Reading = 'text' | 'structure' | 'free';

/** Same value → same placeholder within one request; numbered per detector. */
export class Placeholders {
  // Made on the first hit: most requests have none, and this is built for every one.
  private byValue?: Map<string, string>;
  private counts?: Map<string, number>;

  for(detector: string, value: string): string {
    const key = `${detector}\u0000${value}`;
    const byValue = (this.byValue ??= new Map());
    const counts = (this.counts ??= new Map());
    let placeholder = byValue.get(key);
    if (placeholder === undefined) {
      const n = (counts.get(detector) ?? 0) + 1;
      counts.set(detector, n);
      placeholder = `[REDACTED:${detector}:${n}]`;
      byValue.set(key, placeholder);
    }
    return placeholder;
  }
}

/** Runs the detectors over one text; returns the new text and what fired (counts only). */
export function redactText(text: string, detectors: readonly Detector[], placeholders: Placeholders): { text: string; fired: Map<string, number> } {
  const fired = new Map<string, number>();
  return { text: redactInto(text, detectors, placeholders, fired), fired };
}

/** redactText's work; `fired` is only touched (so only needed) when a detector fires. */
function redactInto(text: string, detectors: readonly Detector[], placeholders: Placeholders, fired: Map<string, number> | (() => Map<string, number>)): string {
  // Most text has nothing any detector looks for: one scan says so instead of one per detector.
  const anyHint = anyHintOf(detectors);
  if (anyHint && !anyHint.test(text)) return text;
  const clean = text.length >= CleanTexts.MIN_CHARS ? cleanTextsOf(detectors) : undefined;
  if (clean?.has(text)) return text;
  let firedHere = false;
  let out = text;
  for (const d of detectors) {
    if (d.hint && !d.hint.test(out)) continue;
    d.pattern.lastIndex = 0;
    out = out.replace(d.pattern, (match: string) => {
      if (d.confirm && !d.confirm(match)) return match;
      const counts = typeof fired === 'function' ? fired() : fired;
      counts.set(d.name, (counts.get(d.name) ?? 0) + 1);
      firedHere = true;
      return placeholders.for(d.name, match);
    });
  }
  if (clean && !firedHere) clean.add(text);
  return out;
}

/**
 * Long texts in which no detector of a list found anything, remembered (bounded). An
 * agent resends its whole conversation with every turn; with this each message is
 * scanned the first time it is sent, not on every turn after (a coding agent's text
 * passes most hints: digits, dots, `@`). Only clean texts are kept: one with a hit is
 * scanned and replaced again every time (its placeholders are numbered per request).
 * Keyed by the text itself: looking a string up reads it once, the detectors read it
 * once each. Two generations instead of a least-recently-used list (no deletes, no
 * walks): new texts go into the young one; when it is full it becomes the old one and
 * the previous old one is dropped; a text found in the old one moves back to the young.
 * Held in memory only, never written anywhere.
 */
export class CleanTexts {
  /** Shorter texts are scanned every time (cheaper than remembering them). */
  static readonly MIN_CHARS = 256;
  /** Characters per generation: at most about 4 MB of text in all (one byte per character for most). */
  static readonly GENERATION_CHARS = 2 * 1024 * 1024;
  private young = new Set<string>();
  private old = new Set<string>();
  private youngChars = 0;

  has(text: string): boolean {
    if (this.young.has(text)) return true;
    if (!this.old.has(text)) return false;
    this.add(text);
    return true;
  }

  add(text: string): void {
    if (text.length > CleanTexts.GENERATION_CHARS / 4) return;
    if (this.youngChars + text.length > CleanTexts.GENERATION_CHARS) {
      this.old = this.young;
      this.young = new Set();
      this.youngChars = 0;
    }
    this.young.add(text);
    this.youngChars += text.length;
  }
}

/** One memory per detector list (one per compiled rule): another list may find what this one did not. */
const cleanTexts = new WeakMap<readonly Detector[], CleanTexts>();
function cleanTextsOf(detectors: readonly Detector[]): CleanTexts {
  let clean = cleanTexts.get(detectors);
  if (!clean) cleanTexts.set(detectors, (clean = new CleanTexts()));
  return clean;
}

/**
 * One regex matching wherever any of the detectors' hints would (their alternation),
 * remembered per detector list (one per compiled rule); null when a detector has no
 * hint (a custom pattern: it always runs) or a hint has flags the others lack.
 */
const anyHints = new WeakMap<readonly Detector[], RegExp | null>();
function anyHintOf(detectors: readonly Detector[]): RegExp | null {
  let re = anyHints.get(detectors);
  if (re === undefined) {
    const hints = detectors.map((d) => d.hint);
    re = hints.length > 0 && hints.every((h) => h !== undefined && h.flags === '') ? new RegExp(hints.map((h) => `(?:${h!.source})`).join('|')) : null;
    anyHints.set(detectors, re);
  }
  return re;
}

/**
 * Walks the message text of a parsed request body. With `apply`, changed strings
 * are written back in place (the caller re-serialises); without it (monitor mode,
 * block mode) the body is left alone and only the hits are reported. The path of a
 * string (`messages[0].content`) is spelled out only when a detector fires there:
 * building it for every node was most of this walk's garbage.
 */
export function redactRequest(api: ApiKind | undefined, body: unknown, detectors: readonly Detector[], placeholders: Placeholders, apply: boolean): RedactionHit[] {
  const hits: RedactionHit[] = [];
  if (!body || typeof body !== 'object' || Array.isArray(body)) return hits;
  // An endpoint whose shape llmtap does not know (batches, token counts,
  // assistants): every string value of its JSON is read as text.
  const roots = api ? (api === 'other' ? Object.keys(body) : ROOTS[api]) : undefined;
  if (!roots) return hits;
  const reading: Reading = api === 'other' ? 'free' : 'text';
  const freeForm = api ? API_FREE_FORM_KEYS[api] : undefined;
  const path: (string | number)[] = [];
  let fired: Map<string, number> | undefined;
  const firedHere = (): Map<string, number> => (fired ??= new Map());
  const visit = (holder: Record<string, unknown> | unknown[], key: string | number, reading: Reading): void => {
    const value = (holder as Record<string | number, unknown>)[key];
    path.push(key);
    if (typeof value === 'string') {
      if (reading !== 'structure') {
        const text = redactInto(value, detectors, placeholders, firedHere);
        if (fired) {
          const at = pathText(path);
          for (const [detector, count] of fired) hits.push({ detector, at, count });
          fired = undefined;
        }
        if (apply && text !== value) (holder as Record<string | number, unknown>)[key] = text;
      }
    } else if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) visit(value, i, reading);
    } else if (value && typeof value === 'object') {
      const obj = value as Record<string, unknown>;
      for (const k of Object.keys(obj)) visit(obj, k, reading === 'free' ? 'free' : readingOf(k, obj[k], freeForm));
    }
    path.pop();
  };
  const top = body as Record<string, unknown>;
  // A root is text when it is a string (`prompt`, `system`); as a list or object its keys decide,
  // unless the API reads it free-form (Cohere v1's documents and tool results).
  for (const root of roots) if (Object.hasOwn(top, root)) visit(top, root, reading === 'text' && freeForm?.has(root) === true ? readingOf(root, top[root], freeForm) : reading);
  return hits;
}

function readingOf(key: string, value: unknown, freeForm: ReadonlySet<string> | undefined): Reading {
  const apiKey = freeForm?.has(key) === true;
  if ((apiKey || FREE_FORM_KEYS.has(key)) && value !== null && typeof value === 'object' && !Array.isArray(value)) return 'free';
  // An API's own free-form key holding a list (Cohere v1's `outputs`, `documents`): each item is data too.
  if (apiKey && Array.isArray(value)) return 'free';
  if (apiKey && typeof value === 'string') return 'text';
  return TEXT_KEYS.has(key) ? 'text' : 'structure';
}

/** `messages[0].content` from ['messages', 0, 'content']. */
function pathText(path: readonly (string | number)[]): string {
  let at = String(path[0]);
  for (let i = 1; i < path.length; i++) at += typeof path[i] === 'number' ? `[${path[i]}]` : `.${path[i] as string}`;
  return at;
}
