import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createServer, type Server } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { regenerateCa, type CertificateAuthority } from '../../src/tls/ca.js';
import { LeafCertificates } from '../../src/tls/leaf.js';
import { constraintBases, hostPermitted, nameConstraintsExtension, readConstraintBases } from '../../src/tls/name-constraints.js';

describe('name-constraint bases from intercept patterns', () => {
  it('wildcards become their domain, ports go, covered bases and duplicates drop, IPs kept apart', () => {
    expect(constraintBases(['api.openai.com', '*.openai.azure.com', '*-aiplatform.googleapis.com', 'bedrock-runtime.*.amazonaws.com', 'localhost:11434', 'api.githubcopilot.com', '*.githubcopilot.com', '10.0.0.5:8000', 'API.OPENAI.COM.']))
      .toEqual({ dns: ['amazonaws.com', 'api.openai.com', 'githubcopilot.com', 'googleapis.com', 'localhost', 'openai.azure.com'], ips: ['10.0.0.5'] });
  });

  it('matches RFC 5280 style: the base and names below it, never a lookalike', () => {
    const bases = { dns: ['openai.com'], ips: [] };
    expect(hostPermitted('openai.com', bases)).toBe(true);
    expect(hostPermitted('api.openai.com', bases)).toBe(true);
    expect(hostPermitted('evilopenai.com', bases)).toBe(false);
    expect(hostPermitted('127.0.0.1', bases)).toBe(false);
  });
});

describe('a name-constrained CA, verified by real TLS clients', () => {
  let ca: CertificateAuthority;
  let leafs: LeafCertificates;
  let server: Server;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'llmtap-nc-'));
    ca = regenerateCa(join(dir, 'certs'), [nameConstraintsExtension(constraintBases(['api.openai.com', '*.openai.azure.com']))]);
    leafs = new LeafCertificates(ca);
    server = createServer({ SNICallback: (name, cb) => cb(null, leafs.secureContextFor(name)) }, (s) => s.end('ok'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const handshake = (servername: string) => new Promise<string>((resolve) => {
    const port = (server.address() as { port: number }).port;
    const socket = connect({ host: '127.0.0.1', port, servername, ca: ca.certPem });
    socket.once('secureConnect', () => { socket.destroy(); resolve('trusted'); });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });

  it('node accepts a leaf for an intercepted host and rejects one for any other host', async () => {
    expect(await handshake('api.openai.com')).toBe('trusted');
    expect(await handshake('eastus.openai.azure.com')).toBe('trusted');
    expect(await handshake('example.com')).not.toBe('trusted');
    expect(await handshake('api.openai.com.evil.example')).not.toBe('trusted');
  });

  it('openssl verify agrees, and the constraints read back from the certificate', () => {
    const verify = (host: string) => {
      const file = join(dir, `${host}.pem`);
      writeFileSync(file, leafs.certificatePemFor(host));
      try {
        return execFileSync('openssl', ['verify', '-CAfile', ca.certPath, file], { encoding: 'utf8', stdio: 'pipe' }).trim();
      } catch (err) {
        return String((err as { stdout: string; stderr: string }).stdout + (err as { stderr: string }).stderr);
      }
    };
    expect(verify('api.openai.com')).toMatch(/: OK$/);
    expect(verify('example.org')).toMatch(/permitted subtree violation/);
    expect(readConstraintBases(ca.certPem)).toEqual({ dns: ['api.openai.com', 'openai.azure.com'], ips: [] });
  });
});
