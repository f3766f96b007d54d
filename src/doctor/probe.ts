import { request } from 'node:http';
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { DOCTOR_HOST } from '../proxy/doctor-echo.js';

const TIMEOUT_MS = 3000;

export interface ProxyStatus {
  version?: string;
  untrustedCa?: { rejected: number; likelyRejected: number };
  recorder?: { recorded: number; lost: number; healthy: boolean };
}

/** The proxy's status JSON (`GET /` direct), or the error that prevented it; `authorization` logs in to a gateway. */
export function fetchStatus(host: string, port: number, authorization?: string): Promise<{ status?: ProxyStatus; error?: string }> {
  return new Promise((resolve) => {
    const headers: Record<string, string> = { accept: 'application/json', ...(authorization ? { authorization } : {}) };
    const req = request({ host, port, path: '/', headers, timeout: TIMEOUT_MS, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => {
        if (res.statusCode === 401) return resolve({ error: authorization ? 'refused the login (answered HTTP 401)' : 'wants a proxy user (answered HTTP 401)' });
        if (res.statusCode !== 200) return resolve({ error: `answered HTTP ${res.statusCode}` });
        try {
          const parsed = JSON.parse(body) as ProxyStatus & { name?: string };
          resolve(parsed.name === 'llmtap' ? { status: parsed } : { error: 'something else listens there (not llmtap)' });
        } catch {
          resolve({ error: 'something else listens there (not llmtap)' });
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 3 s')));
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code === 'ECONNREFUSED' ? 'connection refused (nothing listens)' : err.message }));
    req.end();
  });
}

/**
 * CONNECT to the proxy's own echo host, TLS with only the llmtap CA as root, one
 * request: the path every intercepted request takes, minus the provider. A gateway's
 * login goes in `Proxy-Authorization`, as a tool sends it.
 */
export function roundTrip(host: string, port: number, caPem: string, authorization?: string): Promise<{ proxyNow?: number; error?: string }> {
  return new Promise((resolve) => {
    const done = (r: { proxyNow?: number; error?: string }) => { clearTimeout(timer); socket.destroy(); resolve(r); };
    const timer = setTimeout(() => done({ error: 'no answer within 3 s' }), TIMEOUT_MS);
    const socket = netConnect(port, host);
    socket.on('error', (err) => done({ error: err.message }));
    const login = authorization ? `Proxy-Authorization: ${authorization}\r\n` : '';
    socket.once('connect', () => socket.write(`CONNECT ${DOCTOR_HOST}:443 HTTP/1.1\r\nHost: ${DOCTOR_HOST}:443\r\n${login}\r\n`));
    socket.once('data', (head: Buffer) => {
      const status = head.toString('latin1').split('\r\n')[0] ?? '';
      if (!/^HTTP\/1\.[01] 200/.test(status)) return done({ error: `CONNECT answered ${status}` });
      const tls = tlsConnect({ socket, servername: DOCTOR_HOST, ca: caPem, ALPNProtocols: ['http/1.1'] });
      tls.on('error', (err: NodeJS.ErrnoException) => done({ error: `TLS: ${err.code ?? err.message}` }));
      tls.once('secureConnect', () => tls.write(`GET /doctor HTTP/1.1\r\nHost: ${DOCTOR_HOST}\r\nConnection: close\r\n\r\n`));
      let raw = '';
      tls.setEncoding('utf8');
      tls.on('data', (c: string) => (raw += c));
      tls.on('end', () => {
        try {
          const body = JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)) as { llmtap?: boolean; now?: number };
          done(body.llmtap ? { proxyNow: body.now } : { error: 'unexpected answer' });
        } catch {
          done({ error: `unexpected answer: ${raw.split('\r\n')[0] ?? ''}` });
        }
      });
    });
  });
}
