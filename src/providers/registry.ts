import type { ApiKind, ProviderId } from '../exchange.js';
import { hostMatches } from '../host-pattern.js';
import { anthropicMessages } from './anthropic.js';
import { openaiChat } from './openai.js';
import type { ProviderParser } from './types.js';

/**
 * Known LLM API hosts. This is also the proxy's built-in intercept list, so adding
 * a host here means llmtap decrypts its traffic by default.
 */
export const PROVIDER_HOSTS: ReadonlyArray<{ pattern: string; provider: ProviderId }> = [
  { pattern: 'api.openai.com', provider: 'openai' },
  { pattern: 'api.anthropic.com', provider: 'anthropic' },
  { pattern: 'generativelanguage.googleapis.com', provider: 'gemini' },
  { pattern: 'api.mistral.ai', provider: 'mistral' },
  { pattern: 'api.groq.com', provider: 'groq' },
  { pattern: 'api.deepseek.com', provider: 'deepseek' },
  { pattern: 'api.x.ai', provider: 'xai' },
  { pattern: 'openrouter.ai', provider: 'openrouter' },
  { pattern: 'api.together.xyz', provider: 'together' },
  { pattern: 'api.cohere.com', provider: 'cohere' },
  { pattern: 'api.fireworks.ai', provider: 'fireworks' },
  { pattern: '*.openai.azure.com', provider: 'azure-openai' },
];

export function identifyProvider(host: string, port?: number): ProviderId | undefined {
  return PROVIDER_HOSTS.find((entry) => hostMatches(entry.pattern, host, port))?.provider;
}

/**
 * Which API a request path speaks, judged by its ending so that every prefix
 * providers put in front works: /v1/…, Groq's /openai/v1/…, OpenRouter's /api/v1/…,
 * Azure's /openai/deployments/<name>/…, or an absolute-form URL.
 *
 * Anthropic's API is /v1/messages; a bare …/messages elsewhere is usually something
 * else (OpenAI's /v1/threads/<id>/messages), so it counts only when the caller
 * knows the host is Anthropic.
 */
export function identifyApi(path: string, provider?: ProviderId): ApiKind {
  const end = path.search(/[?#]/);
  const bare = (end === -1 ? path : path.slice(0, end)).replace(/\/+$/, '');
  if (bare.endsWith('/chat/completions')) return 'chat.completions';
  if (bare.endsWith('/v1/messages') || (provider === 'anthropic' && bare.endsWith('/messages'))) return 'messages';
  if (bare.endsWith('/responses')) return 'responses';
  if (bare.endsWith('/embeddings')) return 'embeddings';
  return 'other';
}

/** The parser that reads a request and response of this API, if llmtap has one. */
export function parserFor(api: ApiKind): ProviderParser | undefined {
  switch (api) {
    case 'chat.completions': return openaiChat;
    case 'messages': return anthropicMessages;
    default: return undefined;
  }
}
