import type { TLSSocket } from 'node:tls';
import { WebSocket, type PerMessageDeflateOptions } from 'ws';

export interface Conversation {
  /** Every byte the client's socket received (the 101 head, then frames). */
  received: Buffer;
  /** Messages the client got, in order. */
  got: Array<{ binary: boolean; data: string }>;
  closeCode: number;
  /** The 101's headers as the client saw them. */
  upgradeHeaders: string[];
}

/** Masks made of zeros: the client's frames become the same bytes on every run (RFC 6455 allows any mask). */
const zeroMask = (mask: Buffer): void => void mask.fill(0);

/**
 * A scripted Responses-over-WebSocket session with the `ws` client over an already
 * open TLS socket: two `response.create` turns (the second waits for the first's
 * `response.completed`), a binary message echoed back, a clean close.
 */
export async function converse(tls: TLSSocket, options: { deflate?: boolean | PerMessageDeflateOptions; path?: string; extra?: string } = {}): Promise<Conversation> {
  const chunks: Buffer[] = [];
  tls.on('data', (c: Buffer) => chunks.push(Buffer.from(c)));
  const ws = new WebSocket(`wss://api.openai.com${options.path ?? '/v1/responses'}`, {
    createConnection: () => tls,
    perMessageDeflate: options.deflate ?? false,
    generateMask: zeroMask,
    headers: { authorization: 'Bearer sk-proj-ABCDEFGHIJKLMNOPQRSTUVWX0123', 'openai-beta': 'responses_websockets=2026-02-04' },
  });
  const got: Conversation['got'] = [];
  let upgradeHeaders: string[] = [];
  ws.on('upgrade', (res) => (upgradeHeaders = res.rawHeaders));
  const completed: Array<() => void> = [];
  ws.on('message', (data, binary) => {
    const text = binary ? Buffer.from(data as Buffer).toString('base64') : data.toString();
    got.push({ binary, data: text });
    if (!binary && text.includes('"response.completed"')) completed.shift()?.();
    if (binary) completed.shift()?.();
  });
  const turn = (send: () => void): Promise<void> => new Promise((resolve) => {
    completed.push(resolve);
    send();
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  await turn(() => ws.send(JSON.stringify({ type: 'response.create', model: 'gpt-5-codex', input: [{ role: 'user', content: `first turn ${options.extra ?? ''}` }] })));
  await turn(() => ws.send(JSON.stringify({ type: 'response.create', model: 'gpt-5-codex', previous_response_id: 'resp_fake_1', input: [{ role: 'user', content: 'second turn, a bit longer so deflate has something to find: second turn second turn' }] })));
  await turn(() => ws.send(Buffer.from([0, 1, 2, 3, 250, 251, 252, 253, 254, 255])));
  const closeCode = await new Promise<number>((resolve) => {
    ws.once('close', (code) => resolve(code));
    ws.close(1000, 'done');
  });
  return { received: Buffer.concat(chunks), got, closeCode, upgradeHeaders };
}

/** The bytes after the response head: the frames. */
export function framesOf(received: Buffer): Buffer {
  const end = received.indexOf('\r\n\r\n');
  return received.subarray(end + 4);
}

/** The event that ends a `response.create`'s answer: `response.completed`, or an `error` event (llmtap's refusal, the provider's). */
export interface ResponseEnd {
  type: string;
  error?: { code: string };
}

/** One `response.create` for `model` on an open session; resolves with the event that ends its answer. */
export function askResponse(ws: WebSocket, model: string): Promise<ResponseEnd> {
  return new Promise((resolve) => {
    const onMessage = (data: Buffer): void => {
      const event = JSON.parse(data.toString()) as ResponseEnd;
      if (event.type !== 'response.completed' && event.type !== 'error') return;
      ws.off('message', onMessage);
      resolve(event);
    };
    ws.on('message', onMessage);
    ws.send(JSON.stringify({ type: 'response.create', model }));
  });
}
