import { headerValue, type RawHeaders } from '../exchange.js';

/** Front doors that only subscriptions use: Codex with ChatGPT sign-in, Copilot, Gemini Code Assist. */
const SUBSCRIPTION_PROVIDERS = new Set(['chatgpt', 'github-copilot', 'gemini-code-assist']);

/**
 * True when a request is paid by a subscription rather than per token. Reads the raw
 * request headers, so it must run before redaction; it only tests prefixes and returns a
 * boolean, nothing of the credential leaves here.
 * - Claude Code signed in with a Claude subscription: `Authorization: Bearer sk-ant-oat…`
 *   (an OAuth access token) and `anthropic-beta` listing `oauth-…`; API-key traffic sends
 *   `x-api-key: sk-ant-api…` instead (a gateway's own bearer token is not an OAuth token).
 * - Codex signed in with ChatGPT: provider `chatgpt` (chatgpt.com/backend-api/codex), or
 *   the `chatgpt-account-id` header it sends only with that sign-in.
 * - GitHub Copilot and Gemini Code Assist: provider alone.
 */
export function isSubscriptionTraffic(headers: RawHeaders, provider?: string): boolean {
  if (provider !== undefined && SUBSCRIPTION_PROVIDERS.has(provider)) return true;
  // The OAuth token prefix is Anthropic's alone: it means a subscription on any host (a
  // gateway in front of api.anthropic.com included).
  const auth = headerValue(headers, 'authorization');
  if (auth !== undefined && /^bearer\s+sk-ant-oat/i.test(auth.trim())) return true;
  const beta = headerValue(headers, 'anthropic-beta');
  if (beta !== undefined && headerValue(headers, 'x-api-key') === undefined && hasOauthBeta(beta)) return true;
  if ((provider === 'openai' || provider === undefined) && headerValue(headers, 'chatgpt-account-id') !== undefined) return true;
  return false;
}

/** Whether an `anthropic-beta` value lists an `oauth-…` flag, which Claude Code sends with a subscription's token. */
export function hasOauthBeta(beta: string): boolean {
  return beta.split(',').some((flag) => /^oauth-/i.test(flag.trim()));
}
