import { connect, type LookupFunction, type Socket } from 'node:net';
import { now, type TunnelRecord } from '../exchange.js';
import { newId } from '../ids.js';

export interface TunnelTarget {
  host: string;
  port: number;
  /** Where the socket really goes (after --connect-to). */
  address: { host: string; port: number };
  /** DNS lookup that refuses forbidden addresses (see target-guard). */
  lookup?: LookupFunction;
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
const BAD_GATEWAY = 'HTTP/1.1 502 Bad Gateway\r\nx-llmtap-error: upstream_unreachable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n';
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
  return new Promise((resolve) => {
    const downstream = new DownstreamRelay(client);
    const upstream: Socket = connect({
      host: target.address.host, port: target.address.port, noDelay: true, ...(target.lookup ? { lookup: target.lookup } : {}),
      onread: { buffer: () => downstream.buffer(), callback: (n: number, buf: Uint8Array): boolean => downstream.relay(n, buf, upstream) },
    });
    let connected = false;
    let clientBase = client.bytesWritten;
    let open = 2;
    const onClose = (): void => {
      if (--open > 0) return;
      record.bytesUp = upstream.bytesWritten;
      record.bytesDown = Math.max(0, client.bytesWritten - clientBase);
      record.end = now();
      resolve(record);
    };
    upstream.once('connect', () => {
      connected = true;
      if (meta.established) client.write(meta.established);
      clientBase = client.bytesWritten;
      if (head.length > 0) upstream.write(head);
      // pipe() gives backpressure and passes the client's half-close (FIN) on.
      client.pipe(upstream);
      upstream.once('end', () => client.end());
    });
    upstream.on('error', (err: NodeJS.ErrnoException) => {
      const forbidden = err.code === 'ERR_LLMTAP_FORBIDDEN_TARGET';
      if (record.outcome === 'closed') record.outcome = connected ? 'upstream_error' : forbidden ? 'forbidden_target' : 'upstream_unreachable';
      if (!connected && meta.established && client.writable) client.end(forbidden ? FORBIDDEN : BAD_GATEWAY);
      else client.destroy();
    });
    client.on('error', () => {
      if (record.outcome === 'closed') record.outcome = 'client_error';
    });
    // The client gone means nothing more can be relayed; an upstream close lets queued bytes drain to the client.
    client.once('close', () => {
      upstream.destroy();
      onClose();
    });
    upstream.once('close', () => {
      // Nothing more can go up: keep reading the client (pipe stopped doing so) so its
      // FIN is seen, and don't let a client that never closes hold the socket forever.
      client.resume();
      client.end();
      setTimeout(() => client.destroy(), CLIENT_CLOSE_GRACE_MS).unref();
      onClose();
    });
  });
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
