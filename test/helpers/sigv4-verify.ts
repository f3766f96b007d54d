import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import type { SeenRequest } from './fake-provider.js';

/**
 * Whether the request a fake provider received still carries a valid SigV4 signature:
 * the signature is computed again, with the signer the AWS SDK uses, over the method,
 * path, query, signed headers and body that arrived, and compared with the one in its
 * `Authorization` header. What AWS itself checks (403 InvalidSignatureException when
 * they differ); the fake provider does not check it.
 */
export async function sigV4Holds(seen: SeenRequest, credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }): Promise<boolean> {
  const headers: Record<string, string> = {};
  for (let i = 0; i + 1 < seen.rawHeaders.length; i += 2) headers[seen.rawHeaders[i]!.toLowerCase()] = seen.rawHeaders[i + 1]!;
  const auth = /^AWS4-HMAC-SHA256 Credential=[^/]+\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]+)$/.exec(headers.authorization ?? '');
  if (!auth) return false;
  // The signer trusts a payload hash the client sent (the AWS SDK sends one): AWS checks it against the body.
  const declared = headers['x-amz-content-sha256'];
  if (declared !== undefined && declared !== 'UNSIGNED-PAYLOAD' && declared !== createHash('sha256').update(seen.body).digest('hex')) return false;
  const [, , region, service, signedNames, signature] = auth;
  const signed: Record<string, string> = {};
  for (const name of signedNames!.split(';')) if (headers[name] !== undefined) signed[name] = headers[name];
  const [path, search = ''] = seen.url.split('?');
  const query: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(search)) query[k] = v;
  const amzDate = headers['x-amz-date'] ?? '';
  const date = new Date(`${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`);
  const signer = new SignatureV4({ credentials, region: region!, service: service!, sha256: Sha256 });
  const again = await signer.sign({ method: seen.method, protocol: 'https:', hostname: signed.host ?? '', path: path!, query, headers: signed, body: seen.body }, { signingDate: date, signableHeaders: new Set(Object.keys(signed)) });
  return String(again.headers.authorization ?? '').endsWith(`Signature=${signature}`);
}

/** The hash the signer takes (the SDK's own comes from @aws-crypto): SHA-256, or HMAC-SHA-256 under a secret. */
class Sha256 {
  private hash: Hash | Hmac;
  constructor(private readonly secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = this.fresh();
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {
    this.hash = this.fresh();
  }
  private fresh(): Hash | Hmac {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(this.secret));
  }
}

function bytes(data: string | ArrayBuffer | ArrayBufferView): string | Uint8Array {
  if (typeof data === 'string') return data;
  return data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}
