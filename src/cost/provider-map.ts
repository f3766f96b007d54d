import type { ApiKind } from '../exchange.js';
import { reasoningBesideOutput } from '../providers/usage-totals.js';

/**
 * llmtap's provider ids → @pydantic/genai-prices provider ids. Where the package has no
 * provider of its own for a front door, the model name decides (`undefined` here):
 * GitHub Copilot serves OpenAI, Anthropic and Google models behind one host.
 */
const PACKAGE_PROVIDER: Readonly<Record<string, string | undefined>> = {
  openai: 'openai',
  // Codex signed in with ChatGPT: OpenAI's models on chatgpt.com, priced as OpenAI's API.
  chatgpt: 'openai',
  anthropic: 'anthropic',
  // Gemini API, Vertex AI (Gemini, and Claude through the package's Anthropic fallback)
  // and Gemini Code Assist all sell Google's catalogue.
  gemini: 'google',
  'vertex-ai': 'google',
  'gemini-code-assist': 'google',
  // Bedrock ids (`anthropic.claude-…-v2:0`, profiles `us.anthropic.…`) are in the package as is.
  bedrock: 'aws',
  // Azure deployment names are the user's; the package prices only those it recognises.
  'azure-openai': 'azure',
  openrouter: 'openrouter',
  groq: 'groq',
  mistral: 'mistral',
  deepseek: 'deepseek',
  xai: 'x-ai',
  together: 'together',
  fireworks: 'fireworks',
  cerebras: 'cerebras',
  perplexity: 'perplexity',
  cohere: 'cohere',
  voyage: 'voyageai',
};

/** Providers whose models run on the user's own machines: nothing is billed per token. */
const LOCAL_PROVIDERS = new Set(['ollama']);

/**
 * Providers that are not a seller of their own: a server on the user's --intercept list
 * (vLLM, LM Studio, a company gateway). Their model names say nothing about who bills
 * what, so only the host (when the package knows it) or an override can price them.
 */
const UNPRICED_PROVIDERS = new Set(['openai-compatible', 'other']);

export type ProviderResolution =
  | { kind: 'package'; providerId?: string; providerApiUrl?: string }
  | { kind: 'local' }
  | { kind: 'unpriced' };

/** Decides which of the package's providers prices an exchange, from llmtap's id and the host. */
export function resolvePriceProvider(provider: string | undefined, host: string): ProviderResolution {
  if (provider !== undefined && LOCAL_PROVIDERS.has(provider)) return { kind: 'local' };
  if (provider !== undefined && provider in PACKAGE_PROVIDER) {
    const id = PACKAGE_PROVIDER[provider];
    return id === undefined ? { kind: 'package' } : { kind: 'package', providerId: id };
  }
  if (provider === 'github-copilot') return { kind: 'package' };
  if (isLocalHost(host)) return { kind: 'local' };
  // An unnamed host may still be a seller the package knows by its API URL (its api_pattern).
  if (provider === undefined || UNPRICED_PROVIDERS.has(provider)) return { kind: 'package', providerApiUrl: `https://${host}` };
  return { kind: 'unpriced' };
}

/** Loopback, private and link-local addresses, `localhost`, `*.local`: a model on the user's own hardware. */
export function isLocalHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  if (h === 'localhost' || h.endsWith('.localhost') || h.endsWith('.local') || h === '::1') return true;
  if (/^(fc|fd)[0-9a-f]{2}:/.test(h) || h.startsWith('fe80:')) return true;
  const v4 = /^(\d+)\.(\d+)\.\d+\.\d+$/.exec(h);
  if (!v4) return false;
  const a = Number(v4[1]);
  const b = Number(v4[2]);
  return a === 127 || a === 10 || (a === 192 && b === 168) || (a === 172 && b >= 16 && b <= 31) || (a === 169 && b === 254);
}

/**
 * How a wire API counts its prompt tokens. 'inclusive': the input count already holds the
 * cache reads and writes (OpenAI prompt_tokens / input_tokens, Gemini promptTokenCount).
 * 'exclusive': the input count is only the uncached part and cache reads and writes come
 * on top (Anthropic Messages input_tokens — also Claude on Vertex and Bedrock InvokeModel —,
 * Bedrock Converse inputTokens).
 */
export function inputCounting(api: ApiKind | string | undefined, provider: string | undefined): 'inclusive' | 'exclusive' {
  if (api === 'messages' || api === 'bedrock.converse' || api === 'bedrock.invoke') return 'exclusive';
  if (api === undefined && (provider === 'anthropic' || provider === 'bedrock')) return 'exclusive';
  return 'inclusive';
}

/**
 * Gemini's candidatesTokenCount leaves out the thinking tokens (thoughtsTokenCount, our
 * reasoningTokens), which are billed as output; every other API's output count holds them.
 * The one rule the readers' totals use too (usage-totals.ts), so the price adds them once.
 */
export function outputAddsReasoning(api: ApiKind | string | undefined, provider: string | undefined): boolean {
  return reasoningBesideOutput(api, provider);
}
