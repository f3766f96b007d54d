import type { RawHeaders, Reassembled, Usage } from '../exchange.js';

/** What a provider parser reads from a request body before it is forwarded. */
export interface RequestFacts {
  model?: string;
  stream?: boolean;
}

/**
 * Incremental reader of a response body. Bytes are pushed in whatever pieces the
 * network delivered (split anywhere, even inside a UTF-8 character or an SSE line);
 * finish() returns the same result however the body was split.
 */
export interface ResponseReducer {
  push(chunk: Buffer): void;
  finish(): Reassembled;
}

export interface ProviderParser {
  /**
   * Reads model and stream flag; never throws (a body that is not JSON gives {}). The
   * request's Content-Type tells a multipart upload (an image edit, a transcription) from JSON.
   */
  parseRequest(body: Buffer, contentType?: string): RequestFacts;
  /** A reducer for a (content-decoded) response body of the given Content-Type. */
  createReducer(contentType: string | undefined): ResponseReducer;
  /** Token counts the answer's headers carry, for an answer whose body reports none (Bedrock InvokeModel). */
  usageFromHeaders?(headers: RawHeaders): Usage | undefined;
}
