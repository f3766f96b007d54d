import { headerValue, type RawHeaders } from '../exchange.js';

/**
 * Why a policy cannot change a request its client signed with AWS SigV4 (Bedrock through
 * the AWS SDK, or any other AWS service intercepted): the signature covers the path, the
 * query and a hash of the body, and llmtap never holds the secret to sign again. AWS
 * refuses a changed request (403 InvalidSignatureException), a failure a user would
 * rightly blame on the proxy, so a rule that would rewrite one does not, and says so.
 */
export const SIGNED_NOT_APPLIED = 'the request is SigV4-signed (AWS): its body and path cannot change without the client\'s AWS credentials';

/** SigV4 in the header (`Authorization: AWS4-HMAC-SHA256 Credential=…`) or in the query (a presigned URL). */
const SIGV4_QUERY = /[?&]x-amz-signature=/i;

/** The reason a live request cannot be rewritten, read from the request itself; undefined when it is not signed. */
export function signedReason(headers: RawHeaders, path: string): string | undefined {
  const auth = headerValue(headers, 'authorization');
  if (auth !== undefined && /^\s*AWS4-HMAC-SHA256\s/i.test(auth)) return SIGNED_NOT_APPLIED;
  return path.includes('?') && SIGV4_QUERY.test(path) ? SIGNED_NOT_APPLIED : undefined;
}

/**
 * The same for an archived request (`policy test`): the archive keeps no credential
 * value, so a signature shows by its other parts — an Authorization header sent beside
 * `x-amz-date` (which SigV4 signs and a Bearer key does not need), or a presigned query.
 */
export function archivedSignedReason(headersJson: string, path: string): string | undefined {
  // The archive keeps the headers as [name, value] pairs, names as sent.
  if (/\["authorization",/i.test(headersJson) && /\["x-amz-date",/i.test(headersJson)) return SIGNED_NOT_APPLIED;
  return path.includes('?') && SIGV4_QUERY.test(path) ? SIGNED_NOT_APPLIED : undefined;
}
