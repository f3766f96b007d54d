import { request as httpRequest } from 'node:http';
import { Agent, type AgentOptions } from 'node:https';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';

/**
 * An https.Agent that reaches every origin through an HTTP CONNECT proxy and trusts
 * the given CA: for clients built on node:https (the AWS SDK's NodeHttpHandler) that
 * have no proxy support of their own.
 */
export class ConnectAgent extends Agent {
  constructor(private readonly proxy: { host: string; port: number }, private readonly ca: string, options: AgentOptions = {}) {
    super({ keepAlive: true, ...options });
  }

  override createConnection(options: { host?: string | null; port?: number | string | null; servername?: string }, done: (err: Error | null, socket?: Duplex) => void): undefined {
    const host = options.host ?? 'localhost';
    const port = Number(options.port ?? 443);
    const req = httpRequest({ host: this.proxy.host, port: this.proxy.port, method: 'CONNECT', path: `${host}:${port}`, headers: { host: `${host}:${port}` } });
    req.once('connect', (res, socket) => {
      if (res.statusCode !== 200) return done(new Error(`proxy answered CONNECT with ${res.statusCode}`));
      const tls = tlsConnect({ socket, servername: options.servername ?? host, ca: this.ca, ALPNProtocols: ['http/1.1'] });
      tls.once('secureConnect', () => done(null, tls));
      tls.once('error', (err) => done(err));
    });
    req.once('error', (err) => done(err));
    req.end();
    return undefined;
  }
}
