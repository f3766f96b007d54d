import type { LookupAddress } from 'node:dns';
import { isOwnAddress } from '../../src/proxy/own-addresses.js';
import { describe, expect, it } from 'vitest';
import { checkAddress, checkTarget, ForbiddenTargetError, guardedLookup, type TargetPolicy } from '../../src/proxy/target-guard.js';

const local: TargetPolicy = { gateway: false, allowHosts: [], ownPort: 8080 };
const gateway: TargetPolicy = { gateway: true, allowHosts: [], allowedPorts: [443], ownPort: 8080 };
const gatewayAnyPort: TargetPolicy = { ...gateway, allowedPorts: undefined };

describe('checkAddress', () => {
  const table: Array<[string, string | undefined, string | undefined]> = [
    // address, local mode, gateway mode
    ['127.0.0.1', 'loopback_or_link_local', 'loopback_or_link_local'],
    ['127.255.255.254', 'loopback_or_link_local', 'loopback_or_link_local'],
    ['0.0.0.0', 'loopback_or_link_local', 'loopback_or_link_local'],
    ['169.254.169.254', 'loopback_or_link_local', 'loopback_or_link_local'], // cloud metadata
    ['169.254.0.1', 'loopback_or_link_local', 'loopback_or_link_local'],
    ['100.100.100.200', 'loopback_or_link_local', 'loopback_or_link_local'], // Alibaba metadata
    ['::1', 'loopback_or_link_local', 'loopback_or_link_local'],
    ['0:0:0:0:0:0:0:1', 'loopback_or_link_local', 'loopback_or_link_local'],
    ['::', 'loopback_or_link_local', 'loopback_or_link_local'],
    ['fe80::1', 'loopback_or_link_local', 'loopback_or_link_local'],
    ['fd00:ec2::254', 'loopback_or_link_local', 'loopback_or_link_local'], // AWS metadata over IPv6
    ['fd00:ec2:0:0:0:0:0:254', 'loopback_or_link_local', 'loopback_or_link_local'],
    // IPv4-mapped IPv6, dotted and hex forms (URL parsing produces the hex one)
    ['::ffff:127.0.0.1', 'loopback_or_link_local', 'loopback_or_link_local'],
    ['::FFFF:127.0.0.1', 'loopback_or_link_local', 'loopback_or_link_local'],
    ['::ffff:7f00:1', 'loopback_or_link_local', 'loopback_or_link_local'],
    ['::ffff:169.254.169.254', 'loopback_or_link_local', 'loopback_or_link_local'],
    ['::ffff:a9fe:a9fe', 'loopback_or_link_local', 'loopback_or_link_local'],
    ['0:0:0:0:0:ffff:a9fe:a9fe', 'loopback_or_link_local', 'loopback_or_link_local'],
    ['::ffff:10.1.2.3', undefined, 'private_address'],
    ['::ffff:a00:1', undefined, 'private_address'],
    // RFC 1918, CGNAT, unique local: refused in gateway mode only
    ['10.0.0.1', undefined, 'private_address'],
    ['172.16.0.1', undefined, 'private_address'],
    ['172.31.255.255', undefined, 'private_address'],
    ['192.168.1.1', undefined, 'private_address'],
    ['100.64.0.1', undefined, 'private_address'],
    ['100.127.255.254', undefined, 'private_address'],
    ['fc00::1', undefined, 'private_address'],
    ['fd12:3456::1', undefined, 'private_address'],
    // public
    ['8.8.8.8', undefined, undefined],
    ['172.32.0.1', undefined, undefined],
    ['100.128.0.1', undefined, undefined],
    ['2606:4700::1111', undefined, undefined],
    ['::ffff:8.8.8.8', undefined, undefined],
  ];
  it.each(table)('%s → local %s, gateway %s', (address, inLocal, inGateway) => {
    expect(checkAddress(local, address, 443)).toBe(inLocal);
    expect(checkAddress(gateway, address, 443)).toBe(inGateway);
  });
});

describe('checkTarget', () => {
  it('refuses loopback names and literals before any lookup', () => {
    for (const host of ['localhost', 'LOCALHOST', 'localhost.', 'foo.localhost', 'a.b.localhost', '127.0.0.1', '127.1.2.3', '::1', '::ffff:7f00:1', '169.254.169.254', 'fd00:ec2::254']) {
      expect(checkTarget(local, host, 9999), host).toBe('loopback_or_link_local');
    }
    for (const host of ['api.openai.com', 'localhost.example.com', 'notlocalhost', '8.8.8.8', '10.0.0.1']) {
      expect(checkTarget(local, host, 443), host).toBeUndefined();
    }
  });

  it('refuses the proxy\'s own port on a local address, even for an allowed host', () => {
    const allowing: TargetPolicy = { ...local, allowHosts: ['localhost', '127.0.0.1', '::1'] };
    for (const host of ['127.0.0.1', 'localhost', '::1', '127.0.0.2', 'x.localhost']) {
      expect(checkTarget(local, host, 8080), host).toBe('proxy_itself');
      expect(checkTarget(allowing, host, 8080), host).toBe('proxy_itself');
    }
    // Another port on an allowed local host is fine; the same port on a public host too.
    expect(checkTarget(allowing, 'localhost', 11434)).toBeUndefined();
    expect(checkTarget(local, 'api.openai.com', 8080)).toBeUndefined();
  });

  it('gateway mode: private ranges and ports other than 443 are refused', () => {
    expect(checkTarget(gateway, 'api.openai.com', 443)).toBeUndefined();
    expect(checkTarget(gateway, 'api.openai.com', 22)).toBe('port_not_allowed');
    expect(checkTarget(gateway, 'api.openai.com', 80)).toBe('port_not_allowed');
    for (const host of ['10.0.0.1', '172.16.5.4', '192.168.0.10', '100.64.1.1', 'fc00::1', '::ffff:192.168.0.1']) {
      expect(checkTarget(gateway, host, 443), host).toBe('private_address');
    }
    expect(checkTarget(gateway, '169.254.169.254', 443)).toBe('loopback_or_link_local');
    expect(checkTarget(gateway, '169.254.169.254', 80)).toBe('port_not_allowed'); // port is checked first
    expect(checkTarget(gatewayAnyPort, 'api.openai.com', 22)).toBeUndefined();
  });

  it('allowHosts exempts a host (pattern, optionally with a port) from the address checks', () => {
    const p: TargetPolicy = { ...gateway, allowHosts: ['localhost:11434', '*.corp.internal', '10.0.0.5'], allowedPorts: undefined };
    expect(checkTarget(p, 'localhost', 11434)).toBeUndefined();
    expect(checkTarget(p, 'localhost', 11435)).toBe('loopback_or_link_local');
    expect(checkTarget(p, 'llm.corp.internal', 443)).toBeUndefined();
    expect(checkTarget(p, '10.0.0.5', 443)).toBeUndefined();
    expect(checkTarget(p, '10.0.0.6', 443)).toBe('private_address');
  });

  it('allowedPorts overrides the default port rule, and applies in local mode too', () => {
    expect(checkTarget({ ...gateway, allowedPorts: [443, 8443] }, 'api.example.com', 8443)).toBeUndefined();
    expect(checkTarget({ ...gateway, allowedPorts: [443, 8443] }, 'api.example.com', 22)).toBe('port_not_allowed');
    expect(checkTarget({ ...local, allowedPorts: [443] }, 'api.example.com', 80)).toBe('port_not_allowed');
    // allowHosts does not lift the port rule
    expect(checkTarget({ ...gateway, allowHosts: ['api.example.com'] }, 'api.example.com', 22)).toBe('port_not_allowed');
  });
});

type Result = { err: NodeJS.ErrnoException | null; address: string | LookupAddress[]; family?: number };
function lookup(policy: TargetPolicy, host: string, port: number, all = false): Promise<Result> {
  return new Promise((resolve) => guardedLookup(() => policy, host, port)(host, { all }, (err, address, family) => resolve({ err, address, family })));
}

describe('guardedLookup', () => {
  it('refuses a name that resolves to loopback (as DNS rebinding would), after resolution', async () => {
    const { err } = await lookup(local, 'localhost', 80);
    expect(err).toBeInstanceOf(ForbiddenTargetError);
    expect(err?.code).toBe('ERR_LLMTAP_FORBIDDEN_TARGET');
    expect((err as ForbiddenTargetError).reason).toBe('loopback_or_link_local');
  });

  it('catches numeric spellings the name check cannot see (getaddrinfo resolves them)', async () => {
    for (const host of ['2130706433', '127.1', '0x7f000001']) {
      expect(checkTarget(local, host, 80), host).toBeUndefined(); // not an IP literal by its spelling…
      const { err } = await lookup(local, host, 80);
      expect(err, host).toBeInstanceOf(ForbiddenTargetError); // …but refused once resolved
    }
  });

  it('reads the policy at lookup time and honours allowHosts', async () => {
    let policy: TargetPolicy = local;
    const fn = guardedLookup(() => policy, 'localhost', 11434);
    const run = (): Promise<Result> => new Promise((resolve) => fn('localhost', {}, (err, address, family) => resolve({ err, address, family })));
    expect((await run()).err).toBeInstanceOf(ForbiddenTargetError);
    policy = { ...local, allowHosts: ['localhost:11434'] };
    const ok = await run();
    expect(ok.err).toBeNull();
    expect(['127.0.0.1', '::1']).toContain(ok.address);
    expect([4, 6]).toContain(ok.family);
  });

  it('passes public addresses through in both callback shapes, and refuses private ones in gateway mode', async () => {
    const one = await lookup(gateway, '8.8.8.8', 443);
    expect(one).toMatchObject({ err: null, address: '8.8.8.8', family: 4 });
    const all = await lookup(gateway, '8.8.8.8', 443, true);
    expect(all.err).toBeNull();
    expect(all.address).toEqual([{ address: '8.8.8.8', family: 4 }]);
    expect((await lookup(gateway, '10.1.2.3', 443)).err).toBeInstanceOf(ForbiddenTargetError);
    expect((await lookup(local, '10.1.2.3', 443)).err).toBeNull();
  });
});

describe('own addresses on the listening port', () => {
  const own = new Set(['192.0.2.9', '2001:db8::9']);
  const policy = { gateway: true, allowHosts: ['192.0.2.9'], allowedPorts: undefined, ownPort: 8443, isOwnAddress: (a: string) => own.has(a) };
  it('an own address on the proxy port is a loop, even when allowed; on another port it is not', () => {
    expect(checkTarget(policy, '192.0.2.9', 8443)).toBe('proxy_itself');
    expect(checkTarget(policy, '2001:db8::9', 8443)).toBe('proxy_itself');
    expect(checkTarget(policy, '192.0.2.9', 443)).toBeUndefined();
    expect(checkTarget(policy, '192.0.2.10', 8443)).toBeUndefined();
  });
  it('isOwnAddress knows loopback, the unspecified addresses and IPv4-mapped forms', () => {
    expect(isOwnAddress('127.0.0.1')).toBe(true);
    expect(isOwnAddress('0.0.0.0')).toBe(true);
    expect(isOwnAddress('::ffff:127.0.0.1')).toBe(true);
    expect(isOwnAddress('198.51.100.1')).toBe(false);
  });
});
