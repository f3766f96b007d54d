import { connect, type LookupFunction, type Socket } from 'node:net';
import { now, type TunnelRecord } from '../exchange.js';
import { LlmtapError } from '../errors.js';
import { newId } from '../ids.js';
import { formatAuthority } from './route.js';

export interface TunnelTarget {
  host: string;
  port: number;
  /** Where the socket really goes (after --connect-to). */
  address: { host: string; port: number };
  /** DNS lookup that refuses forbidden addresses (see target-guard). */
  lookup?: LookupFunction;
  /** Opens the upstream socket another way (a CONNECT through --upstream-proxy); resolves once it is usable. */
  dial?: () => Promise<Socket>;
}

export interface TunnelMeta {
  clientAddress: string;
  clientUser?: string;
  /** Written to the client once the upstream socket is open (the CONNECT reply), unless it was sent already. */
  established?: string;
}

const CLIENT_CLOSE_GRACE_MS = 10_000;
/** Size of the reusable buffer downstream bytes are read into (what libuv reads at most per call). */
const READ_CHUNK = 64 * 1024;
const FORBIDDEN = 'HTTP/1.1 403 Forbidden\r\nx-llmtap-error: forbidden_target\r\ncontent-length: 0\r\nconnection: close\r\n\r\n';

/**
 * A raw byte tunnel, never decrypted. `head` holds bytes the client already sent.
 * Resolves with the tunnel record once both sockets are closed.
 */
export function openTunnel(client: Socket, head: Buffer, target: TunnelTarget, meta: TunnelMeta): Promise<TunnelRecord> {
  const record: TunnelRecord = {
    id: newId(), clientAddress: meta.clientAddress, clientUser: meta.clientUser,
    host: target.host, port: target.port, start: now(), end: 0, bytesUp: 0, bytesDown: 0, outcome: 'closed',
  };
  const authority = formatAuthority(target.host, target.port);
  return new Promise((resolve) => {
    let upstream: Socket | undefined;
    let connected = false;
    let clientBase = client.bytesWritten;
    let upstreamBase = 0;
    let open = 2;
    const onClose = (): void => {
      if (--open > 0) return;
      record.bytesUp = Math.max(0, (upstream?.bytesWritten ?? 0) - upstreamBase);
      record.bytesDown = Math.max(0, client.bytesWritten - clientBase);
      record.end = now();
      resolve(record);
    };
    const ready = (socket: Socket): void => {
      connected = true;
      if (meta.established) client.write(meta.established);
      clientBase = client.bytesWritten;
      upstreamBase = socket.bytesWritten;
      if (head.length > 0) socket.write(head);
      // pipe() gives backpressure and passes the client's half-close (FIN) on.
      client.pipe(socket);
      socket.once('end', () => client.end());
    };
    const upstreamClosed = (): void => {
      // Nothing more can go up: keep reading the client (pipe stopped doing so) so its
      // FIN is seen, and don't let a client that never closes hold the socket forever.
      client.resume();
      client.end();
      setTimeout(() => client.destroy(), CLIENT_CLOSE_GRACE_MS).unref();
      onClose();
    };
    const watch = (socket: Socket): void => {
      socket.on('error', (err: NodeJS.ErrnoException) => {
        const forbidden = err.code === 'ERR_LLMTAP_FORBIDDEN_TARGET';
        if (record.outcome === 'closed') record.outcome = connected ? 'upstream_error' : forbidden ? 'forbidden_target' : 'upstream_unreachable';
        if (!connected && meta.established && client.writable) client.end(forbidden ? FORBIDDEN : badGateway('upstream_unreachable', `llmtap could not connect to ${authority}`));
        else client.destroy();
      });
      socket.once('close', upstreamClosed);
    };
    client.on('error', () => {
      if (record.outcome === 'closed') record.outcome = 'client_error';
    });
    // The client gone means nothing more can be relayed; an upstream close lets queued bytes drain to the client.
    client.once('close', () => {
      upstream?.destroy();
      onClose();
    });
    if (target.dial) {
      // Through a parent proxy the socket exists only once the parent said yes; the
      // reused-buffer read path (onread) needs the socket at creation, so pipe() relays down.
      target.dial().then((socket) => {
        upstream = socket;
        watch(socket);
        if (client.destroyed) return void socket.destroy();
        ready(socket);
        socket.pipe(client, { end: false });
      }, (err: Error) => {
        const code = err instanceof LlmtapError ? err.code : 'upstream_unreachable';
        if (record.outcome === 'closed') record.outcome = code;
        if (meta.established && client.writable) client.end(badGateway(code, err.message));
        else client.destroy();
        upstreamClosed();
      });
      return;
    }
    const downstream = new DownstreamRelay(client);
    const socket: Socket = connect({
      host: target.address.host, port: target.address.port, noDelay: true, ...(target.lookup ? { lookup: target.lookup } : {}),
      onread: { buffer: () => downstream.buffer(), callback: (n: number, buf: Uint8Array): boolean => downstream.relay(n, buf, socket) },
    });
    upstream = socket;
    watch(socket);
    socket.once('connect', () => ready(socket));
  });
}

/** The CONNECT answer when llmtap could not open the tunnel: the stable code, and a line naming what failed. */
function badGateway(code: string, message: string): string {
  const body = `${message}\n`;
  return `HTTP/1.1 502 Bad Gateway\r\nx-llmtap-error: ${code}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`;
}

/**
 * Upstream → client without a fresh buffer per read. A bulk download through a
 * tunnel reads 64 KB at a time; allocating each chunk made V8 count every one as
 * external memory and start major GCs every few dozen MB, which doubled the CPU per
 * GB once the heap was large (after a burst of streams). Bytes are read into one
 * buffer that is reused while the client's socket takes each chunk at once (the
 * usual case); a chunk the socket has to queue keeps its buffer and the next read
 * gets a new one. Backpressure: a full client socket pauses the upstream read until
 * it drains.
 */
class DownstreamRelay {
  private current = Buffer.allocUnsafeSlow(READ_CHUNK);

  constructor(private readonly client: Socket) {}

  buffer(): Buffer {
    return this.current;
  }

  /** onread callback: false pauses reading (resumed on the client's drain). */
  relay(nread: number, buf: Uint8Array, upstream: Socket): boolean {
    const chunk = Buffer.from(buf.buffer, buf.byteOffset, nread);
    const more = this.client.write(chunk);
    // Still queued in the client socket: that memory belongs to the write now.
    if (this.client.writableLength > 0) this.current = Buffer.allocUnsafeSlow(READ_CHUNK);
    if (!more) {
      this.client.once('drain', () => upstream.resume());
      return false;
    }
    return true;
  }
}
