import { isIP } from 'node:net';
import type forge from 'node-forge';
import { nodeForge } from './forge.js';
import { splitPattern } from '../host-pattern.js';

/**
 * A name-constrained CA (RFC 5280 4.2.1.10): a critical NameConstraints extension
 * whose permitted dNSName subtrees are the intercept-list domains. Clients then
 * refuse any leaf this CA signs for another name, so a stolen CA key can
 * impersonate the LLM APIs and nothing else. IP addresses are excluded entirely
 * unless an intercept pattern is one (an iPAddress subtree per address).
 */
export const NAME_CONSTRAINTS_OID = '2.5.29.30';

/**
 * The subtree base for each pattern: a dNSName base covers the name and every name
 * below it, so `*.openai.azure.com` becomes `openai.azure.com`, and a pattern with a
 * `*` inside a label (`*-aiplatform.googleapis.com`) the domain above that label.
 * Ports are dropped (certificates do not carry them). Sorted, deduplicated, and
 * without bases already covered by a shorter one.
 */
export function constraintBases(patterns: readonly string[]): { dns: string[]; ips: string[] } {
  const dns = new Set<string>();
  const ips = new Set<string>();
  for (const pattern of patterns) {
    const host = splitPattern(pattern.toLowerCase()).host.replace(/\.$/, '');
    if (isIP(host)) {
      ips.add(host);
      continue;
    }
    const labels = host.split('.');
    const lastWild = labels.map((l) => l.includes('*')).lastIndexOf(true);
    const base = labels.slice(lastWild + 1).join('.');
    if (base) dns.add(base);
  }
  const sorted = [...dns].sort((a, b) => a.length - b.length || a.localeCompare(b));
  const kept = sorted.filter((name, i) => !sorted.slice(0, i).some((shorter) => name.endsWith(`.${shorter}`)));
  return { dns: kept.sort(), ips: [...ips].sort() };
}

/** Whether a host name falls inside the permitted dNSName subtrees (RFC 5280 matching). */
export function hostPermitted(host: string, bases: { dns: readonly string[]; ips: readonly string[] }): boolean {
  const h = host.toLowerCase().replace(/\.$/, '');
  if (isIP(h)) return bases.ips.includes(h);
  return bases.dns.some((base) => h === base || h.endsWith(`.${base}`));
}

/** The extension for forge's setExtensions. */
export function nameConstraintsExtension(bases: { dns: readonly string[]; ips: readonly string[] }): { id: string; critical: true; value: forge.asn1.Asn1 } {
  const { asn1 } = nodeForge();
  const subtree = (name: forge.asn1.Asn1) => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [name]);
  const dnsName = (name: string) => asn1.create(asn1.Class.CONTEXT_SPECIFIC, 2, false, name);
  const ipName = (addressAndMask: Buffer) => asn1.create(asn1.Class.CONTEXT_SPECIFIC, 7, false, addressAndMask.toString('binary'));
  const permitted = [
    ...bases.dns.map((d) => subtree(dnsName(d))),
    ...bases.ips.map((ip) => subtree(ipName(Buffer.concat([ipBytes(ip), Buffer.alloc(isIP(ip) === 4 ? 4 : 16, 0xff)])))),
  ];
  // Without an excluded (or permitted) iPAddress subtree, IP names would be unconstrained.
  const excluded = [
    ...(bases.ips.some((ip) => isIP(ip) === 4) ? [] : [subtree(ipName(Buffer.alloc(8)))]),
    ...(bases.ips.some((ip) => isIP(ip) === 6) ? [] : [subtree(ipName(Buffer.alloc(32)))]),
  ];
  const parts = [asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, permitted)];
  if (excluded.length > 0) parts.push(asn1.create(asn1.Class.CONTEXT_SPECIFIC, 1, true, excluded));
  return { id: NAME_CONSTRAINTS_OID, critical: true, value: asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, parts) };
}

function ipBytes(ip: string): Buffer {
  if (isIP(ip) === 4) return Buffer.from(ip.split('.').map(Number));
  const [head = '', tail = ''] = ip.split('::');
  const groups = (s: string) => (s ? s.split(':') : []);
  const h = groups(head);
  const t = ip.includes('::') ? groups(tail) : [];
  const all = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return Buffer.from(all.flatMap((g: string) => { const n = parseInt(g, 16); return [n >> 8, n & 0xff]; }));
}

/** The permitted dNSName bases of a certificate's NameConstraints, or undefined for an unconstrained CA. */
export function readConstraintBases(certPem: string): { dns: string[]; ips: string[] } | undefined {
  const cert = nodeForge().pki.certificateFromPem(certPem);
  const ext = cert.extensions.find((e: { id?: string }) => e.id === NAME_CONSTRAINTS_OID) as { value?: string } | undefined;
  if (!ext?.value) return undefined;
  const { asn1 } = nodeForge();
  const root = asn1.fromDer(ext.value);
  const dns: string[] = [];
  const ips: string[] = [];
  for (const part of root.value as forge.asn1.Asn1[]) {
    if (part.type !== 0) continue; // permittedSubtrees only
    for (const st of part.value as forge.asn1.Asn1[]) {
      const name = (st.value as forge.asn1.Asn1[])[0];
      if (!name) continue;
      if (name.type === 2) dns.push(String(name.value));
      if (name.type === 7) {
        const bytes = Buffer.from(String(name.value), 'binary');
        const addr = bytes.subarray(0, bytes.length / 2);
        ips.push(addr.length === 4 ? [...addr].join('.') : (addr.toString('hex').match(/.{4}/g) ?? []).join(':'));
      }
    }
  }
  return { dns, ips };
}
