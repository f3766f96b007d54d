/**
 * The fake LLM provider, run as its own process: an HTTPS server (keep-alive) that
 * answers POST /v1/chat/completions with a small JSON body, or with an SSE stream
 * of `n` events `gapMs` apart when the body asks for `"stream": true`; each event
 * carries its send time on CLOCK_MONOTONIC (`bench_sent_ns`), which every process
 * on the machine shares, so a client can measure per-event delay. A plain TCP
 * "blaster" port sends N raw bytes for the tunnel-throughput figure. A WebSocket
 * upgrade (any path) is served by `ws`: a text message `{"n":N,"gapMs":G}` is
 * answered by N text messages G ms apart, each carrying `bench_sent_ns` likewise.
 *
 * argv: <cert.pem> <key.pem>. Reports {ready, httpsPort, blastPort} over IPC and
 * answers {stats} with connection counts.
 */
import { readFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

const [certFile, keyFile] = process.argv.slice(2);
const cert = readFileSync(certFile!, 'utf8');
const key = readFileSync(keyFile!, 'utf8');

const JSON_BODY = Buffer.from(JSON.stringify({
  id: 'chatcmpl-bench', object: 'chat.completion', created: 1_700_000_000, model: 'gpt-4o-mini',
  choices: [{ index: 0, message: { role: 'assistant', content: 'Hello! How can I help you today?', refusal: null }, logprobs: null, finish_reason: 'stop' }],
  usage: { prompt_tokens: 11, completion_tokens: 9, total_tokens: 20 },
  system_fingerprint: 'fp_bench',
}));
const COMMON_HEADERS = { 'x-request-id': 'req_bench', 'openai-processing-ms': '12', 'openai-version': '2020-10-01' };

let tlsConnections = 0;
let openConnections = 0;
let requests = 0;

function sseEvent(i: number, last: boolean): string {
  const delta = i === 0 ? '{"role":"assistant","content":""}' : last ? '{}' : `{"content":"tok${i} "}`;
  const finish = last ? '"stop"' : 'null';
  return `data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-mini","choices":[{"index":0,"delta":${delta},"logprobs":null,"finish_reason":${finish}}],"bench_seq":${i},"bench_sent_ns":"${process.hrtime.bigint()}"}\n\n`;
}

function stream(res: ServerResponse, n: number, gapMs: number): void {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', ...COMMON_HEADERS });
  let i = 0;
  let timer: NodeJS.Timeout | undefined;
  res.once('close', () => clearTimeout(timer));
  const tick = (): void => {
    if (res.destroyed) return;
    if (i >= n) {
      res.end('data: [DONE]\n\n');
      return;
    }
    res.write(sseEvent(i, i === n - 1));
    i++;
    timer = setTimeout(tick, gapMs);
  };
  tick();
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  requests++;
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    // Only streaming requests need a parse (they carry the stream's shape).
    if (body.includes('"stream":true')) {
      let n = 20;
      let gap = 10;
      try {
        const parsed = JSON.parse(body.toString('utf8')) as { bench?: { n?: number; gapMs?: number } };
        n = parsed.bench?.n ?? n;
        gap = parsed.bench?.gapMs ?? gap;
      } catch {
        // defaults
      }
      stream(res, n, gap);
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': JSON_BODY.length, ...COMMON_HEADERS });
    res.end(JSON_BODY);
  });
}

const https = createHttpsServer({ cert, key, keepAliveTimeout: 120_000, requestTimeout: 0, headersTimeout: 60_000 }, handle);
https.on('secureConnection', (socket: Socket) => {
  tlsConnections++;
  openConnections++;
  socket.setNoDelay(true);
  socket.once('close', () => openConnections--);
});
https.on('tlsClientError', () => {});

/** The blaster: the client sends "<bytes>\n", gets that many bytes, then FIN. */
const BLOCK = Buffer.alloc(256 * 1024, 0x61);
const blast = createNetServer((socket) => {
  socket.on('error', () => {});
  let line = '';
  const onData = (chunk: Buffer): void => {
    line += chunk.toString('latin1');
    const nl = line.indexOf('\n');
    if (nl < 0) return;
    socket.off('data', onData);
    let left = Number(line.slice(0, nl));
    const pump = (): void => {
      while (left > 0) {
        const n = Math.min(left, BLOCK.length);
        left -= n;
        if (!socket.write(n === BLOCK.length ? BLOCK : BLOCK.subarray(0, n))) {
          socket.once('drain', pump);
          return;
        }
      }
      socket.end();
    };
    pump();
  };
  socket.on('data', onData);
});

const wss = new WebSocketServer({ noServer: true, perMessageDeflate: true });
https.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
  wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
    ws.on('message', (data) => {
      const { n = 1, gapMs = 0 } = JSON.parse(data.toString()) as { n?: number; gapMs?: number };
      let i = 0;
      const next = (): void => {
        if (i++ >= n || ws.readyState !== ws.OPEN) return;
        ws.send(JSON.stringify({ type: 'response.output_text.delta', delta: 'Hello! How can I help you today?', bench_sent_ns: String(process.hrtime.bigint()) }));
        if (gapMs > 0) setTimeout(next, gapMs);
        else setImmediate(next);
      };
      next();
    });
  });
});

process.on('message', (m: { cmd?: string }) => {
  if (m.cmd === 'stats') process.send!({ stats: { tlsConnections, openConnections, requests } });
});
process.on('disconnect', () => process.exit(0));

https.listen(0, '127.0.0.1', () => {
  blast.listen(0, '127.0.0.1', () => {
    process.send!({ ready: true, httpsPort: (https.address() as AddressInfo).port, blastPort: (blast.address() as AddressInfo).port });
  });
});
