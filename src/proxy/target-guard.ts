import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import { hostMatches } from '../host-pattern.js';

/**
 * Which destinations the proxy refuses to open connections to. A forward proxy
 * that connects anywhere it is asked is a way into the machine it runs on (its
 * loopback services, its own port) and, on a team gateway, into the private
 * network and the cloud metadata endpoint.
 */
export interface TargetPolicy {
  /** Listening on a non-loopback address: private ranges and non-allowed ports are refused too. */
  gateway: boolean;
  /** Host patterns exempt from the address checks (operator's explicit --allow-target / --intercept). */
  allowHosts: readonly string[];
  /** Ports a CONNECT may reach; undefined = any. */
  allowedPorts?: readonly number[];
  /** The proxy's own listening port: never a target on any address of this host. */
  ownPort: number;
  /** Whether an address belongs to this host (own-addresses.ts); with ownPort, a loop into the proxy. */
  isOwnAddress?: (address: string) => boolean;
}

const ALWAYS_BLOCKED = new BlockList();
ALWAYS_BLOCKED.addSubnet('127.0.0.0', 8, 'ipv4'); // loopback
ALWAYS_BLOCKED.addSubnet('0.0.0.0', 8, 'ipv4'); // "this host"
ALWAYS_BLOCKED.addSubnet('169.254.0.0', 16, 'ipv4'); // link-local, incl. 169.254.169.254 metadata
ALWAYS_BLOCKED.addAddress('::1', 'ipv6');
ALWAYS_BLOCKED.addAddress('::', 'ipv6');
ALWAYS_BLOCKED.addSubnet('fe80::', 10, 'ipv6'); // link-local
ALWAYS_BLOCKED.addAddress('fd00:ec2::254', 'ipv6'); // AWS metadata over IPv6
ALWAYS_BLOCKED.addAddress('100.100.100.200', 'ipv4'); // Alibaba Cloud metadata (inside CGNAT space)

const PRIVATE = new BlockList();
PRIVATE.addSubnet('10.0.0.0', 8, 'ipv4');
PRIVATE.addSubnet('172.16.0.0', 12, 'ipv4');
PRIVATE.addSubnet('192.168.0.0', 16, 'ipv4');
PRIVATE.addSubnet('100.64.0.0', 10, 'ipv4'); // carrier-grade NAT
PRIVATE.addSubnet('fc00::', 7, 'ipv6'); // unique local

export type TargetRefusal = 'loopback_or_link_local' | 'private_address' | 'port_not_allowed' | 'proxy_itself';

/** Checks the name and port a client asked for, before any DNS lookup. */
export function checkTarget(policy: TargetPolicy, host: string, port: number): TargetRefusal | undefined {
  if (policy.allowedPorts && !policy.allowedPorts.includes(port)) return 'port_not_allowed';
  const lower = host.toLowerCase().replace(/\.$/, ''); // "localhost." is localhost too
  const local = lower === 'localhost' || lower.endsWith('.localhost') || (isIP(lower) !== 0 && checkAddress(policy, lower, port) === 'loopback_or_link_local');
  // A loop back into the proxy is refused even for allowed hosts, on any of this host's addresses.
  if (port === policy.ownPort && (local || (isIP(lower) !== 0 && policy.isOwnAddress?.(lower)))) return 'proxy_itself';
  if (policy.allowHosts.some((p) => hostMatches(p, host, port))) return undefined;
  if (local) return 'loopback_or_link_local';
  return isIP(lower) ? checkAddress(policy, lower, port) : undefined;
}

/** Checks one resolved address (or an IP literal). */
export function checkAddress(policy: TargetPolicy, address: string, port: number): TargetRefusal | undefined {
  const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
  const mapped = family === 'ipv6' ? /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1] : undefined;
  if (mapped) return checkAddress(policy, mapped, port);
  if (ALWAYS_BLOCKED.check(address, family)) return 'loopback_or_link_local';
  if (policy.gateway && PRIVATE.check(address, family)) return 'private_address';
  return undefined;
}

export class ForbiddenTargetError extends Error {
  readonly code = 'ERR_LLMTAP_FORBIDDEN_TARGET';
  constructor(readonly reason: TargetRefusal) {
    super(`destination refused: ${reason}`);
  }
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A dns.lookup for net/tls/undici connects that refuses forbidden addresses
 * after resolution, so a public name pointing at 127.0.0.1 (DNS rebinding) is
 * caught at the moment of connecting, not just by its spelling.
 */
export function guardedLookup(currentPolicy: () => TargetPolicy, host: string, port: number) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '');
      const list = addresses as LookupAddress[];
      const policy = currentPolicy();
      // A name that resolves to this host, on the proxy's port, is a loop whatever the allow lists say.
      if (port === policy.ownPort && list.some((a) => policy.isOwnAddress?.(a.address) || checkAddress(policy, a.address, port) === 'loopback_or_link_local')) {
        return callback(new ForbiddenTargetError('proxy_itself'), '');
      }
      if (!policy.allowHosts.some((p) => hostMatches(p, host, port))) {
        for (const a of list) {
          const refusal = checkAddress(policy, a.address, port);
          if (refusal) return callback(new ForbiddenTargetError(refusal), '');
        }
      }
      if (options.all) return callback(null, list);
      const first = list[0];
      if (!first) return callback(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }), '');
      callback(null, first.address, first.family);
    });
  };
}
