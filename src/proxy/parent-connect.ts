import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect, type SecureContext } from 'node:tls';
import { LlmtapError } from '../errors.js';
import { formatAuthority } from './route.js';
import { parseConnectReply, type ParentProxy } from './parent-proxy.js';

export interface ParentConnectOptions {
  timeoutMs: number;
  /** Roots an https:// parent's certificate is verified against (the upstream trust). */
  trust: SecureContext;
}

/**
 * A socket to host:port through the parent proxy's CONNECT. Resolves once the parent
 * answered 2xx; any bytes it sent after its head are put back on the socket. The
 * failure is an LlmtapError naming the parent (never its credential):
 * upstream_proxy_unreachable, upstream_proxy_auth (407) or upstream_proxy_refused.
 */
export function connectViaParent(parent: ParentProxy, host: string, port: number, options: ParentConnectOptions): Promise<Socket> {
  const authority = formatAuthority(host, port);
  return new Promise((resolve, reject) => {
    const socket: Socket = parent.protocol === 'https:'
      ? tlsConnect({ host: parent.host, port: parent.port, servername: isIP(parent.host) ? undefined : parent.host, secureContext: options.trust, rejectUnauthorized: true })
      : netConnect({ host: parent.host, port: parent.port });
    socket.setNoDelay(true);
    let received = Buffer.alloc(0);
    let settled = false;
    const fail = (err: LlmtapError): void => {
      if (settled) return;
      settled = true;
      cleanup();
      socket.destroy();
      reject(err);
    };
    const onError = (err: NodeJS.ErrnoException): void => fail(new LlmtapError('upstream_proxy_unreachable', {
      cause: err, detail: `llmtap could not reach its upstream proxy ${parent.display} (${err.code ?? err.message})`,
    }));
    const onClose = (): void => fail(new LlmtapError('upstream_proxy_refused', { detail: `the upstream proxy ${parent.display} closed the connection before answering CONNECT ${authority}` }));
    const onTimeout = (): void => fail(new LlmtapError('upstream_proxy_unreachable', { detail: `the upstream proxy ${parent.display} did not answer CONNECT ${authority} in time` }));
    const onData = (chunk: Buffer): void => {
      received = Buffer.concat([received, chunk]);
      const reply = parseConnectReply(received);
      if (reply === 'incomplete') return;
      if (reply === 'malformed') return fail(new LlmtapError('upstream_proxy_refused', { detail: `the upstream proxy ${parent.display} sent no valid answer to CONNECT ${authority}` }));
      if (reply.status === 407) {
        return fail(new LlmtapError('upstream_proxy_auth', {
          detail: parent.authorization
            ? `the upstream proxy ${parent.display} refused llmtap's credentials (407)`
            : `the upstream proxy ${parent.display} requires authentication (407): give user:pass in --upstream-proxy`,
        }));
      }
      if (reply.status < 200 || reply.status > 299) {
        return fail(new LlmtapError('upstream_proxy_refused', { detail: `the upstream proxy ${parent.display} answered ${reply.status} to CONNECT ${authority}` }));
      }
      settled = true;
      cleanup();
      socket.setTimeout(0);
      // No reader until the caller attaches one: bytes must wait, not be emitted to nobody.
      socket.pause();
      const rest = received.subarray(reply.headEnd);
      if (rest.length > 0) socket.unshift(rest);
      resolve(socket);
    };
    const cleanup = (): void => {
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('close', onClose);
      socket.off('timeout', onTimeout);
    };
    socket.setTimeout(options.timeoutMs);
    socket.on('error', onError);
    socket.on('close', onClose);
    socket.on('timeout', onTimeout);
    socket.on('data', onData);
    socket.once(parent.protocol === 'https:' ? 'secureConnect' : 'connect', () => {
      const auth = parent.authorization ? `Proxy-Authorization: ${parent.authorization}\r\n` : '';
      socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n${auth}\r\n`);
    });
  });
}
