import { isIP } from 'node:net';

/** A host normalised for use as a certificate name and cache key. */
export type LeafHost =
  | { kind: 'dns'; name: string }
  | { kind: 'ip'; name: string; bytes: Buffer };

const DNS_LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;

/**
 * Accepts a DNS name (any case, optional trailing dot), an IPv4 address, or
 * an IPv6 address with or without brackets. Throws a TypeError for anything
 * else: the name ends up inside a certificate, so it must be a plain ASCII
 * host (IDNs arrive from clients already as xn-- A-labels).
 */
export function parseLeafHost(host: string): LeafHost {
  let h = host.trim();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  // A zone id ("fe80::1%eth0") is local to one machine; certificates carry the bare address.
  const zone = h.indexOf('%');
  if (zone > 0 && h.includes(':')) h = h.slice(0, zone);

  const family = isIP(h);
  if (family === 4) return { kind: 'ip', name: h, bytes: Buffer.from(h.split('.').map(Number)) };
  if (family === 6) {
    // WHATWG URL gives the canonical compressed form, so "::1" and
    // "0:0:0:0:0:0:0:1" share one cache entry and one parsing path.
    const canonical = new URL(`http://[${h}]/`).hostname.slice(1, -1);
    return { kind: 'ip', name: canonical, bytes: ipv6Bytes(canonical) };
  }

  const name = h.toLowerCase().replace(/\.$/, '');
  if (name.length === 0 || name.length > 253 || !name.split('.').every((label) => DNS_LABEL.test(label))) {
    throw new TypeError(`not a host name a certificate can be issued for: ${JSON.stringify(host)}`);
  }
  return { kind: 'dns', name };
}

/** Bytes of a canonical (URL-serialised, hex-only) IPv6 address. */
function ipv6Bytes(canonical: string): Buffer {
  const [left = '', right] = canonical.split('::');
  const head = left ? left.split(':') : [];
  const tail = right ? right.split(':') : [];
  const groups = right === undefined ? head : [...head, ...Array<string>(8 - head.length - tail.length).fill('0'), ...tail];
  const bytes = Buffer.alloc(16);
  groups.forEach((group, i) => bytes.writeUInt16BE(parseInt(group, 16), i * 2));
  return bytes;
}
