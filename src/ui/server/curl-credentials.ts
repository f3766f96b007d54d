/**
 * Copy as curl's credentials: the stored request holds each credential header under its
 * own name with its value redacted, so the command names the same header with an
 * environment variable in place of the value — the header the client actually sent
 * (Claude Code signed in with a subscription sends `authorization: Bearer`, not
 * `x-api-key`), the variable named as that provider's SDK or CLI reads it. Pure.
 */
import { hasOauthBeta } from '../../cost/subscription.js';
import { isCredentialName } from '../../redact/credential-names.js';

/** Credential headers that are not a key to re-send: the proxy's own login, cookies, a SigV4 signature's parts. */
const NOT_A_KEY = new Set(['proxy-authorization', 'cookie', 'x-amz-security-token', 'x-amz-signature', 'x-amz-credential']);

/** A bearer token where the provider's SDK names it apart from its API key. */
const BEARER_VARS: Record<string, string> = {
  anthropic: 'ANTHROPIC_AUTH_TOKEN',
  bedrock: 'AWS_BEARER_TOKEN_BEDROCK',
  'azure-openai': 'AZURE_OPENAI_AD_TOKEN',
  gemini: 'GOOGLE_ACCESS_TOKEN',
  'vertex-ai': 'GOOGLE_ACCESS_TOKEN',
  'gemini-code-assist': 'GOOGLE_ACCESS_TOKEN',
  chatgpt: 'CHATGPT_ACCESS_TOKEN',
  'github-copilot': 'GITHUB_COPILOT_TOKEN',
};

/** Headers that carry the provider's key: the variable is the provider's (`$GROQ_API_KEY`); any other is named after the header. */
const PROVIDER_KEY_HEADERS = new Set(['authorization', 'x-api-key', 'api-key', 'x-goog-api-key']);

/** The header a redacted `?key=`-style credential goes in instead, by provider (the URL is sent without it). */
const QUERY_KEY_HEADER: Record<string, string> = { anthropic: 'x-api-key', gemini: 'x-goog-api-key', 'vertex-ai': 'x-goog-api-key', 'gemini-code-assist': 'x-goog-api-key', 'azure-openai': 'api-key' };

/**
 * The `-H "name: $VAR"` arguments for the credentials the recorded request carried, in
 * its order; `keyInQuery`: it sent its key as a query parameter (redacted, left off the
 * URL), which goes in the provider's key header instead. None for a SigV4-signed request:
 * a signature is no key a variable can stand for.
 */
export function credentialPlaceholders(headers: Record<string, unknown>, provider: string | null, keyInQuery: boolean, subscription = false): string[] {
  const names = Object.keys(headers).map((n) => n.toLowerCase());
  if (names.some((n) => n === 'x-amz-date' || n === 'x-amz-content-sha256')) return [];
  const sent = names.filter((n) => isCredentialName(n) && !NOT_A_KEY.has(n));
  if (keyInQuery) sent.push(QUERY_KEY_HEADER[provider ?? ''] ?? 'authorization');
  const oauth = subscription || anthropicOauth(headers);
  return [...new Set(sent)].map((name) => `-H "${name}: ${name === 'authorization' ? 'Bearer ' : ''}$${envVar(name, provider, oauth)}"`);
}

/**
 * Anthropic takes an API key as a bearer token too (its SDKs send one so), so a bearer is an
 * OAuth token (`$ANTHROPIC_AUTH_TOKEN`) only for subscription traffic: priced as such when
 * recorded (`subscription`), or flagged by the `oauth-…` beta Claude Code sends with it.
 */
function anthropicOauth(headers: Record<string, unknown>): boolean {
  const beta = Object.entries(headers).find(([n]) => n.toLowerCase() === 'anthropic-beta')?.[1];
  return [beta].flat().some((v) => typeof v === 'string' && hasOauthBeta(v));
}

function envVar(header: string, provider: string | null, oauth: boolean): string {
  if (!PROVIDER_KEY_HEADERS.has(header)) return shellName(header);
  if (header === 'authorization' && provider && BEARER_VARS[provider] && (provider !== 'anthropic' || oauth)) return BEARER_VARS[provider];
  // Clients of an OpenAI-compatible server (vLLM, LiteLLM…) read OPENAI_API_KEY; a host no parser knows, a generic one.
  const prefix = provider === 'openai-compatible' ? 'OPENAI' : provider && provider !== 'other' ? shellName(provider) : 'LLM';
  return `${prefix}_API_KEY`;
}

/** A name as a shell variable: upper case, every other character `_`. */
function shellName(text: string): string {
  return text.toUpperCase().replace(/[^A-Z0-9]+/g, '_').replace(/^(?=\d)/, '_');
}
