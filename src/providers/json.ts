import type { Reassembled } from '../exchange.js';
import type { RequestFacts, ResponseReducer } from './types.js';

/** Shared by the provider parsers: tolerant JSON reading and the request facts both APIs spell alike. */
export type JsonObject = Record<string, unknown>;

export function asObject(value: unknown): JsonObject | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as JsonObject) : undefined;
}

export function parseJson(text: string): unknown {
  try {
    // A BOM is not JSON whitespace, but some servers and clients send one.
    return JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch {
    return undefined;
  }
}

/**
 * A request body parsed as JSON, remembered for the same Buffer: the provider parser
 * and the agent-metadata reader both read the request, and a Claude Code request can
 * be hundreds of KB, so it is parsed once.
 */
let lastBody: Buffer | undefined;
let lastJson: unknown;
export function parseJsonBody(body: Buffer): unknown {
  if (body !== lastBody) {
    lastJson = parseJson(body.toString('utf8'));
    lastBody = body;
  }
  return lastJson;
}

/** `model` and `stream` as both Chat Completions and Messages put them; never throws. */
export function readModelAndStream(body: Buffer): RequestFacts {
  const request = asObject(parseJsonBody(body));
  if (!request) return {};
  const facts: RequestFacts = {};
  if (typeof request.model === 'string') facts.model = request.model;
  // The APIs stream only when asked to, so a missing flag means a plain answer.
  if (typeof request.stream === 'boolean') facts.stream = request.stream;
  else if (request.stream === undefined) facts.stream = false;
  return facts;
}

/**
 * A reducer for a plain JSON answer: bytes are kept and decoded once at the end,
 * which makes the result independent of how they were split.
 */
export function wholeJsonReducer(read: (body: JsonObject | undefined) => Reassembled): ResponseReducer {
  const chunks: Buffer[] = [];
  return {
    push: (chunk) => void chunks.push(chunk),
    finish: () => read(asObject(parseJson(Buffer.concat(chunks).toString('utf8')))),
  };
}
