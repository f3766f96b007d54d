import type { ApiKind, ProviderId } from '../exchange.js';
import { hostMatches } from '../host-pattern.js';
import { anthropicMessages } from './anthropic.js';
import { bedrockConverse, bedrockInvoke } from './bedrock.js';
import { cohereChat } from './cohere.js';
import { cohereChatV1 } from './cohere-v1.js';
import { anthropicCountTokens, bedrockCountTokens } from './count-tokens.js';
import { gemini, geminiCountTokens } from './gemini.js';
import { ollamaNative } from './ollama.js';
import { openaiChat } from './openai.js';
import { openaiCompletions } from './openai-completions.js';
import { openaiEmbeddings } from './openai-embeddings.js';
import { openaiSpeech, openaiTranscriptions } from './openai-audio.js';
import { openaiImages } from './openai-images.js';
import { openaiModerations } from './openai-moderations.js';
import { openaiResponses } from './openai-responses.js';
import { rerank } from './rerank.js';
import type { ProviderParser } from './types.js';

export interface ProviderHost {
  pattern: string;
  provider: ProviderId;
  /**
   * For hosts that serve much more than an LLM API (chatgpt.com): only paths under
   * these prefixes are recorded. The host is still decrypted (the path is inside TLS);
   * other paths are relayed unrecorded and logged with `recorded: false`.
   */
  paths?: readonly string[];
}

/**
 * Known LLM API hosts. This is also the proxy's built-in intercept list, so adding
 * a host here means llmtap decrypts its traffic by default.
 */
export const PROVIDER_HOSTS: ReadonlyArray<ProviderHost> = [
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
  // Cohere's older host name, still served and still the default of older SDKs and integrations.
  { pattern: 'api.cohere.ai', provider: 'cohere' },
  { pattern: 'api.fireworks.ai', provider: 'fireworks' },
  { pattern: '*.openai.azure.com', provider: 'azure-openai' },
  // OpenAI family (chat/responses/embeddings parsers).
  { pattern: '*.cognitiveservices.azure.com', provider: 'azure-openai' },
  { pattern: '*.services.ai.azure.com', provider: 'azure-openai' },
  { pattern: 'api.cerebras.ai', provider: 'cerebras' },
  { pattern: 'api.perplexity.ai', provider: 'perplexity' },
  { pattern: 'api.githubcopilot.com', provider: 'github-copilot' },
  { pattern: '*.githubcopilot.com', provider: 'github-copilot' },
  // Copilot's older inline-completions endpoint (/v1/engines/copilot-codex/completions).
  { pattern: 'copilot-proxy.githubusercontent.com', provider: 'github-copilot' },
  { pattern: 'chatgpt.com', provider: 'chatgpt', paths: ['/backend-api/codex/'] },
  // Google: Gemini CLI's Code Assist endpoint, and Vertex AI (global and regional endpoints).
  { pattern: 'cloudcode-pa.googleapis.com', provider: 'gemini-code-assist' },
  { pattern: 'aiplatform.googleapis.com', provider: 'vertex-ai' },
  { pattern: '*-aiplatform.googleapis.com', provider: 'vertex-ai' },
  // Amazon Bedrock runtime, every region (and its FIPS endpoints).
  { pattern: 'bedrock-runtime.*.amazonaws.com', provider: 'bedrock' },
  { pattern: 'bedrock-runtime-fips.*.amazonaws.com', provider: 'bedrock' },
  // Embeddings and rerank: Jina AI and Voyage AI (OpenAI's /v1/embeddings shape; Cohere's rerank shape).
  { pattern: 'api.jina.ai', provider: 'jina' },
  { pattern: 'api.voyageai.com', provider: 'voyage' },
];

export function identifyProvider(host: string, port?: number): ProviderId | undefined {
  return PROVIDER_HOSTS.find((entry) => hostMatches(entry.pattern, host, port))?.provider;
}

/** Ollama's default port: whatever it serves there (native or /v1) is Ollama. */
const OLLAMA_PORT = 11434;

/**
 * Provider and API of one request. A host off the built-in list is on the user's
 * --intercept list (a local model server, a company gateway): it is 'ollama' on
 * Ollama's port or for Ollama's native paths, 'openai-compatible' when the path is an
 * OpenAI API (vLLM, LM Studio, llama.cpp, LiteLLM…), and unnamed otherwise.
 */
export function identifyRequest(host: string, port: number, path: string): { provider?: ProviderId; api: ApiKind } {
  const known = identifyProvider(host, port);
  if (known) return { provider: known, api: identifyApi(path, known) };
  const native = identifyApi(path, 'ollama');
  if (port === OLLAMA_PORT || native === 'ollama.chat' || native === 'ollama.generate' || isOllamaEmbed(path)) return { provider: 'ollama', api: native };
  const api = identifyApi(path);
  return api === 'other' ? { api } : { provider: 'openai-compatible', api };
}

/** Whether a request path on a host is LLM traffic to record (false only outside a scoped host's prefixes). */
export function pathRecorded(paths: readonly string[] | undefined, path: string): boolean {
  if (!paths) return true;
  const bare = pathOnly(path);
  return paths.some((prefix) => bare.startsWith(prefix));
}

/** The built-in path scope of a host (see ProviderHost.paths); undefined = every path. */
export function builtInPaths(host: string, port?: number): readonly string[] | undefined {
  return PROVIDER_HOSTS.find((entry) => hostMatches(entry.pattern, host, port))?.paths;
}

/**
 * Which API a request path speaks, judged by its ending so that every prefix
 * providers put in front works: /v1/…, Groq's /openai/v1/…, OpenRouter's /api/v1/…,
 * Azure's /openai/deployments/<name>/…, or an absolute-form URL.
 *
 * Anthropic's API is /v1/messages; a bare …/messages elsewhere is usually something
 * else (OpenAI's /v1/threads/<id>/messages), so it counts only when the caller
 * knows the host is Anthropic. Likewise /api/chat, /api/generate and /api/embed are
 * Ollama's only on an Ollama server.
 */
export function identifyApi(path: string, provider?: ProviderId): ApiKind {
  const bare = pathOnly(path).replace(/\/+$/, '');
  if (bare.endsWith('/chat/completions')) return 'chat.completions';
  // Mistral's agents endpoint takes and gives Chat Completions bodies.
  if (bare.endsWith('/agents/completions')) return 'chat.completions';
  // The legacy text Completions API, after the two above that end the same way: /v1/completions,
  // /v1/engines/{engine}/completions (Copilot), Azure's deployments, FIM (/beta/, /fim/completions).
  if (bare.endsWith('/completions')) return 'completions';
  if (bare.endsWith('/v1/messages') || (provider === 'anthropic' && bare.endsWith('/messages'))) return 'messages';
  if (bare.endsWith('/v1/messages/count_tokens') || (provider === 'anthropic' && bare.endsWith('/messages/count_tokens'))) return 'messages.countTokens';
  if (bare.endsWith('/responses')) return 'responses';
  if (bare.endsWith('/embeddings')) return 'embeddings';
  // Google's embedContent and batchEmbedContents (Gemini API, Vertex AI); Ollama's native /api/embed.
  if (bare.endsWith(':embedContent') || bare.endsWith(':batchEmbedContents')) return 'embeddings';
  if (provider === 'ollama' && bare.endsWith('/api/embed')) return 'embeddings';
  // Google's custom methods: …/models/{m}:generateContent, Code Assist's /v1internal:generateContent.
  if (bare.endsWith(':generateContent') || bare.endsWith(':streamGenerateContent')) return 'gemini.generateContent';
  if (bare.endsWith(':countTokens')) return 'gemini.countTokens';
  // Bedrock: /model/{modelId}/converse[-stream], /model/{modelId}/invoke[-with-response-stream].
  if (/\/model\/[^/]+\/converse(-stream)?$/.test(bare)) return 'bedrock.converse';
  if (/\/model\/[^/]+\/invoke(-with-response-stream)?$/.test(bare)) return 'bedrock.invoke';
  if (/\/model\/[^/]+\/count-tokens$/.test(bare)) return 'bedrock.countTokens';
  // Claude on Vertex AI: Messages bodies behind publishers/anthropic/models/{m}:rawPredict; its token
  // counting is the same method on a fixed "model", count-tokens, the model named in the body.
  if (/\/publishers\/anthropic\/models\/count-tokens:rawPredict$/i.test(bare)) return 'messages.countTokens';
  if (/\/publishers\/anthropic\/models\/[^/]+:(stream)?rawPredict$/i.test(bare)) return 'messages';
  if (provider === 'ollama' && bare.endsWith('/api/chat')) return 'ollama.chat';
  if (provider === 'ollama' && bare.endsWith('/api/generate')) return 'ollama.generate';
  if (provider === 'cohere' && bare.endsWith('/v2/chat')) return 'cohere.chat';
  if (provider === 'cohere' && bare.endsWith('/v1/chat')) return 'cohere.chat.v1';
  // Cohere's /v1|v2/rerank, and servers that copied it: Jina, Voyage, Together (/v1/rerank), vLLM and Infinity (/rerank too).
  if (bare.endsWith('/rerank')) return 'rerank';
  // OpenAI's Moderations API (and servers that copy it).
  if (bare.endsWith('/moderations')) return 'moderations';
  // OpenAI's Image API: generations (JSON), edits and variations (multipart uploads).
  if (/\/images\/(generations|edits|variations)$/.test(bare)) return 'images';
  // OpenAI's Audio API: speech to text (a translation is a transcription into English) and text to speech.
  if (bare.endsWith('/audio/transcriptions') || bare.endsWith('/audio/translations')) return 'audio.transcriptions';
  if (bare.endsWith('/audio/speech')) return 'audio.speech';
  // Cohere's Embed API, v2 and v1 (texts / inputs / images in, billed_units out).
  if (provider === 'cohere' && (bare.endsWith('/v2/embed') || bare.endsWith('/v1/embed'))) return 'embeddings';
  return 'other';
}

/**
 * Model and stream flag where the path carries them and the body does not: Azure
 * OpenAI's deployment (/openai/deployments/{name}/…), Gemini and Vertex AI
 * (…/models/{model}:generateContent, :streamGenerateContent, :rawPredict), Bedrock
 * (/model/{modelId}/converse-stream…; the id URL-encoded, possibly an ARN), the engine
 * of OpenAI's old /v1/engines/{engine}/completions (GitHub Copilot's inline suggestions).
 */
export function factsFromPath(path: string): { model?: string; stream?: boolean } {
  const bare = pathOnly(path);
  const facts: { model?: string; stream?: boolean } = {};
  const bedrock = /\/model\/([^/]+)\/(converse|converse-stream|invoke|invoke-with-response-stream|count-tokens)$/.exec(bare);
  const model = /\/openai\/deployments\/([^/]+)\//.exec(bare)?.[1] ?? /\/models\/([^/:]+):[A-Za-z]+$/.exec(bare)?.[1] ?? bedrock?.[1]
    ?? /\/engines\/([^/]+)\/completions\/?$/.exec(bare)?.[1];
  // Vertex AI's Claude token counting names its endpoint where a model would be (the body names the model).
  if (model !== undefined && !/\/publishers\/anthropic\/models\/count-tokens:/i.test(bare)) facts.model = decodeSegment(model);
  if (bedrock) facts.stream = bedrock[2]!.endsWith('stream');
  const method = /:([A-Za-z]+)$/.exec(bare)?.[1];
  if (method === 'generateContent' || method === 'rawPredict') facts.stream = false;
  if (method === 'streamGenerateContent' || method === 'streamRawPredict') facts.stream = true;
  return facts;
}

/** The `?model=` of a request target: OpenAI Realtime names its model there (the proxy decides its upgrade with it). */
export function queryModel(path: string): string | undefined {
  const q = path.indexOf('?');
  return q < 0 ? undefined : new URLSearchParams(path.slice(q + 1)).get('model') ?? undefined;
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** The parser that reads a request and response of this API, if llmtap has one. */
export function parserFor(api: ApiKind): ProviderParser | undefined {
  switch (api) {
    case 'chat.completions': return openaiChat;
    case 'messages': return anthropicMessages;
    case 'messages.countTokens': return anthropicCountTokens;
    case 'responses': return openaiResponses;
    case 'embeddings': return openaiEmbeddings;
    case 'completions': return openaiCompletions;
    case 'ollama.chat': case 'ollama.generate': return ollamaNative;
    case 'gemini.generateContent': return gemini;
    case 'gemini.countTokens': return geminiCountTokens;
    case 'bedrock.converse': return bedrockConverse;
    case 'bedrock.invoke': return bedrockInvoke;
    case 'bedrock.countTokens': return bedrockCountTokens;
    case 'cohere.chat': return cohereChat;
    case 'cohere.chat.v1': return cohereChatV1;
    case 'rerank': return rerank;
    case 'moderations': return openaiModerations;
    case 'images': return openaiImages;
    case 'audio.transcriptions': return openaiTranscriptions;
    case 'audio.speech': return openaiSpeech;
    default: return undefined;
  }
}

/** Ollama's native embeddings path, which names a host on the --intercept list Ollama as /api/chat does. */
function isOllamaEmbed(path: string): boolean {
  return pathOnly(path).replace(/\/+$/, '').endsWith('/api/embed');
}

function pathOnly(path: string): string {
  const end = path.search(/[?#]/);
  return end === -1 ? path : path.slice(0, end);
}
