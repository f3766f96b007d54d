import { withBodyLength, type RawHeaders } from '../exchange.js';
import { azureDeploymentSegment, rewriteAzurePath } from '../policy/azure-model-rewrite.js';
import { googleModelSegment, rewriteGoogleBody, rewriteGooglePath } from '../policy/google-model-rewrite.js';
import { rewriteModel } from '../policy/model-rewrite.js';
import type { Hop } from '../policy/routing.js';
import type { CredentialHeader } from '../policy/types.js';
import { setHeader } from './headers.js';

/** The request as the client sent it (after redaction), ready to be sent to any hop. */
export interface BaseRequest {
  method: string;
  path: string;
  /** Hop-by-hop headers already removed. */
  headers: RawHeaders;
  /** The whole body, as it would go up unchanged (the proxy always holds it: see readBody). */
  body: Buffer | null;
  /** The client sent it chunked: an unchanged body goes up chunked again. */
  chunked: boolean;
  /** The body with its content coding undone, for a model rewrite; undefined when it could not be. */
  identity?: Buffer;
}

export interface HopRequest {
  path: string;
  headers: RawHeaders;
  body: Buffer | null;
  chunked: boolean;
  /** Why the model was asked to change and did not: neither the path (Google, Azure) nor the body's top level names it, or the body could not be read. */
  modelNotRewritten?: string;
  /** The client's credentials held back from another origin (names only: headers, `?key`). */
  withheld?: string[];
}

/** Every header a provider reads an API key from: the client's go when the policy sets its own. */
export const CREDENTIAL_HEADERS: readonly CredentialHeader[] = ['authorization', 'x-api-key', 'api-key', 'x-goog-api-key'];

/**
 * What the client sent for the origin it asked for and no other origin may see: the
 * key headers, plus an AWS session token (Bedrock) and cookies that only mean
 * something to that origin.
 */
const ORIGIN_BOUND_HEADERS: readonly string[] = [...CREDENTIAL_HEADERS, 'x-amz-security-token', 'cookie'];

/** The WebSocket subprotocol a browser puts an OpenAI key in (it cannot set headers). */
const KEY_SUBPROTOCOL = 'openai-insecure-api-key.';

/**
 * Builds what one hop is sent (pure): the path with the hop's prefix, a Host
 * header naming the hop's origin when it is not the one the client asked for, the
 * model rewritten in the body (identity-encoded, Content-Length fixed) or, for
 * Google's model-in-path APIs and Azure's deployments, in the path and any body field
 * naming it (a Bedrock request's never: routing.ts leaves its hops without one), and the
 * injected credential in place of any the client sent. A hop to another origin
 * never gets the client's credentials (a key is only for the origin it was sent
 * to): only the injected one, if any.
 */
export function requestForHop(base: BaseRequest, hop: Hop, inject?: { header: CredentialHeader; value: string }): HopRequest {
  let headers = base.headers;
  let body = base.body;
  let chunked = base.chunked;
  let modelNotRewritten: string | undefined;
  if (hop.explicit) headers = setHeader(headers, 'host', authority(hop.origin.host, hop.origin.port, hop.origin.tls));
  let path = base.path;
  if (hop.model !== undefined) {
    // Google reads the model from the path (…/models/{m}:generateContent), Azure OpenAI the
    // deployment (/openai/deployments/{d}/…): that is what changes, and a model the body names
    // too goes with it. Elsewhere the body's top-level model.
    const google = googleModelSegment(base.path);
    const azure = google ? undefined : azureDeploymentSegment(base.path);
    const bodyUnread = !base.identity && (base.body?.length ?? 0) > 0;
    const next = base.identity && (google ? rewriteGoogleBody(base.identity, hop.model) : rewriteModel(base.identity, hop.model));
    if (bodyUnread) {
      // The body may name the model too (path and body must agree): neither changes.
      modelNotRewritten = 'the body could not be read (a content coding llmtap cannot undo)';
    } else {
      if (google) path = rewriteGooglePath(base.path, google, hop.model);
      else if (azure) path = rewriteAzurePath(base.path, azure, hop.model);
      if (next) {
        body = next;
        chunked = false;
        headers = withBodyLength(headers, next.length);
      } else if (!google && !azure) {
        modelNotRewritten = 'the body names no top-level model';
      }
    }
  }
  let withheld: string[] | undefined;
  if (inject || hop.explicit) {
    // Every credential header goes (inject.header is one of them), so the injected one
    // is appended; one pass, each name lower-cased once (this runs on every routed request).
    // The value needs no check here: a credential holding a line break or NUL stops the
    // policy from loading (routing-compile.ts), and the name is one of CREDENTIAL_HEADERS.
    // hop.explicit: scheme, host or port differ from what the client asked for.
    const drop: readonly string[] = hop.explicit ? ORIGIN_BOUND_HEADERS : CREDENTIAL_HEADERS;
    const kept: RawHeaders = [];
    const dropped: string[] = [];
    for (let i = 0; i + 1 < headers.length; i += 2) {
      const name = headers[i]!.toLowerCase();
      if (hop.explicit && name === 'sec-websocket-protocol') {
        // A browser's Realtime session carries its key as a subprotocol (openai-insecure-api-key.sk-…).
        const offered = headers[i + 1]!.split(',').map((p) => p.trim());
        const rest = offered.filter((p) => !p.toLowerCase().startsWith(KEY_SUBPROTOCOL));
        if (rest.length < offered.length && !dropped.includes(name)) dropped.push(name);
        if (rest.length > 0) kept.push(headers[i]!, rest.join(', '));
      } else if (!drop.includes(name)) kept.push(headers[i]!, headers[i + 1]!);
      else if (!dropped.includes(name)) dropped.push(name);
    }
    if (inject) kept.push(inject.header, inject.value);
    headers = kept;
    const before = path;
    path = withoutKeyParam(path);
    if (path !== before) dropped.push('?key');
    // Recorded only when nothing took their place: an injected key has its own decision.
    if (!inject && dropped.length > 0) withheld = dropped;
  }
  // Filled in, not spread: this runs on every routed request.
  const out: HopRequest = { path: hop.pathPrefix === undefined ? path : hop.pathPrefix + path, headers, body, chunked };
  if (modelNotRewritten) out.modelNotRewritten = modelNotRewritten;
  if (withheld) out.withheld = withheld;
  return out;
}

/**
 * The path without the client's `key` query parameters (Gemini's `?key=`, a credential
 * like the headers above): when the policy injects its own, the client's must not go
 * up beside it (Google refuses two, and it is not the key the team chose). Every other
 * byte of the query stays as sent; a query left empty loses its `?`.
 */
export function withoutKeyParam(path: string): string {
  const q = path.indexOf('?');
  if (q < 0) return path;
  const kept = path.slice(q + 1).split('&').filter((part) => paramName(part) !== 'key');
  return kept.length === 0 ? path.slice(0, q) : `${path.slice(0, q)}?${kept.join('&')}`;
}

function paramName(part: string): string {
  const raw = part.split('=', 1)[0]!.replace(/\+/g, ' ');
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

function authority(host: string, port: number, tls: boolean): string {
  const shown = host.includes(':') ? `[${host}]` : host;
  return port === (tls ? 443 : 80) ? shown : `${shown}:${port}`;
}
