import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';

/**
 * The addresses of this host (every interface, loopback included, plus the
 * unspecified ones), for refusing targets that would loop back into the proxy.
 * Interfaces can change while the proxy runs (a VPN comes up, DHCP renews), so the
 * set is re-read, but at most every few seconds: os.networkInterfaces() costs tens of
 * microseconds, too much for every CONNECT.
 */
const REFRESH_MS = 5000;
let cached: { at: number; set: Set<string> } | undefined;

export function isOwnAddress(address: string): boolean {
  const now = Date.now();
  if (!cached || now - cached.at > REFRESH_MS) cached = { at: now, set: readAddresses() };
  return cached.set.has(normalize(address));
}

function readAddresses(): Set<string> {
  const set = new Set<string>(['0.0.0.0', '::']);
  for (const list of Object.values(networkInterfaces())) {
    for (const entry of list ?? []) set.add(normalize(entry.address));
  }
  return set;
}

/** Lower case, no zone id, IPv4-mapped IPv6 as plain IPv4. */
function normalize(address: string): string {
  const bare = address.toLowerCase().replace(/^\[|\]$/g, '').split('%')[0]!;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(bare)?.[1];
  return mapped ?? (isIP(bare) ? bare : address);
}
