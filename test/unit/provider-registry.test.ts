import { describe, expect, it } from 'vitest';
import type { ApiKind, ProviderId } from '../../src/exchange.js';
import { anthropicMessages } from '../../src/providers/anthropic.js';
import { ollamaNative } from '../../src/providers/ollama.js';
import { openaiChat } from '../../src/providers/openai.js';
import { openaiEmbeddings } from '../../src/providers/openai-embeddings.js';
import { openaiResponses } from '../../src/providers/openai-responses.js';
import { openaiCompletions } from '../../src/providers/openai-completions.js';
import { PROVIDER_HOSTS, factsFromPath, identifyApi, identifyProvider, identifyRequest, parserFor, pathRecorded } from '../../src/providers/registry.js';

describe('identifyProvider', () => {
  it.each<[string, number | undefined, ProviderId | undefined]>([
    ['api.openai.com', 443, 'openai'],
    ['API.OpenAI.com', undefined, 'openai'],
    ['api.openai.com.', 443, 'openai'],
    ['api.anthropic.com', 443, 'anthropic'],
    ['generativelanguage.googleapis.com', 443, 'gemini'],
    ['api.mistral.ai', 443, 'mistral'],
    ['api.groq.com', 443, 'groq'],
    ['api.deepseek.com', 443, 'deepseek'],
    ['api.x.ai', 443, 'xai'],
    ['openrouter.ai', 443, 'openrouter'],
    ['api.together.xyz', 443, 'together'],
    ['api.cohere.com', 443, 'cohere'],
    ['api.fireworks.ai', 443, 'fireworks'],
    ['my-resource.openai.azure.com', 443, 'azure-openai'],
    ['my-resource.cognitiveservices.azure.com', 443, 'azure-openai'],
    ['my-project.services.ai.azure.com', 443, 'azure-openai'],
    ['api.cerebras.ai', 443, 'cerebras'],
    ['api.perplexity.ai', 443, 'perplexity'],
    ['api.githubcopilot.com', 443, 'github-copilot'],
    ['api.business.githubcopilot.com', 443, 'github-copilot'],
    ['chatgpt.com', 443, 'chatgpt'],
    ['openai.azure.com', 443, undefined],
    ['chat.openai.com', 443, undefined],
    ['evil-api.openai.com.example', 443, undefined],
    ['example.com', 443, undefined],
    ['localhost', 11434, undefined],
  ])('%s:%s → %s', (host, port, expected) => {
    expect(identifyProvider(host, port)).toBe(expected);
  });

  it('lists every host pattern once', () => {
    const patterns = PROVIDER_HOSTS.map((entry) => entry.pattern);
    expect(new Set(patterns).size).toBe(patterns.length);
  });
});

describe('identifyApi', () => {
  it.each<[string, ApiKind]>([
    ['/v1/chat/completions', 'chat.completions'],
    ['/v1/chat/completions?foo=bar', 'chat.completions'],
    ['/v1/chat/completions/', 'chat.completions'],
    ['/openai/v1/chat/completions', 'chat.completions'],
    ['/api/v1/chat/completions', 'chat.completions'],
    ['/openai/deployments/gpt-4o-prod/chat/completions?api-version=2024-10-21', 'chat.completions'],
    ['/v1beta/openai/chat/completions', 'chat.completions'],
    ['/inference/v1/chat/completions', 'chat.completions'],
    ['http://localhost:11434/v1/chat/completions', 'chat.completions'],
    ['/v1/messages', 'messages'],
    ['/v1/messages?beta=true', 'messages'],
    ['/v1/messages/count_tokens', 'messages.countTokens'],
    ['/v1/messages/batches', 'other'],
    ['/v1/threads/thread_abc/messages', 'other'],
    ['/v1/responses', 'responses'],
    ['/openai/v1/responses?api-version=preview', 'responses'],
    ['/v1/responses/resp_123', 'other'],
    ['/v1/embeddings', 'embeddings'],
    ['/openai/deployments/ada/embeddings?api-version=2024-10-21', 'embeddings'],
    ['/v1/models', 'other'],
    ['/v1/completions', 'completions'],
    ['/v1/completions/', 'completions'],
    ['/v1/engines/gpt-41-copilot/completions', 'completions'],
    ['/openai/deployments/instruct-prod/completions?api-version=2024-10-21', 'completions'],
    ['/beta/completions', 'completions'],
    ['/v1/fim/completions', 'completions'],
    // Mistral's agents endpoint speaks Chat Completions (messages in, a chat.completion out).
    ['/v1/agents/completions', 'chat.completions'],
    ['/v1/chat/completions/chatcmpl-abc', 'other'],
    ['/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse', 'gemini.generateContent'],
    ['/', 'other'],
    ['', 'other'],
  ])('%s → %s', (path, expected) => {
    expect(identifyApi(path)).toBe(expected);
  });

  it('counts a bare …/messages as Anthropic Messages only for Anthropic', () => {
    expect(identifyApi('/messages', 'anthropic')).toBe('messages');
    expect(identifyApi('/messages')).toBe('other');
    expect(identifyApi('/v1/threads/thread_abc/messages', 'openai')).toBe('other');
  });
});

describe('parserFor', () => {
  it('maps each API to its parser', () => {
    expect(parserFor('chat.completions')).toBe(openaiChat);
    expect(parserFor('messages')).toBe(anthropicMessages);
    expect(parserFor('responses')).toBe(openaiResponses);
    expect(parserFor('embeddings')).toBe(openaiEmbeddings);
    expect(parserFor('ollama.chat')).toBe(ollamaNative);
    expect(parserFor('ollama.generate')).toBe(ollamaNative);
    expect(parserFor('completions')).toBe(openaiCompletions);
    expect(parserFor('other')).toBeUndefined();
  });
});

describe('identifyRequest', () => {
  it.each<[string, number, string, ProviderId | undefined, ApiKind]>([
    ['api.openai.com', 443, '/v1/responses', 'openai', 'responses'],
    ['chatgpt.com', 443, '/backend-api/codex/responses', 'chatgpt', 'responses'],
    ['my.openai.azure.com', 443, '/openai/v1/responses?api-version=preview', 'azure-openai', 'responses'],
    ['localhost', 11434, '/api/chat', 'ollama', 'ollama.chat'],
    ['localhost', 11434, '/api/generate', 'ollama', 'ollama.generate'],
    ['localhost', 11434, '/v1/chat/completions', 'ollama', 'chat.completions'],
    ['localhost', 11434, '/api/tags', 'ollama', 'other'],
    ['gpu-box.lan', 8080, '/api/chat', 'ollama', 'ollama.chat'],
    ['127.0.0.1', 8000, '/v1/chat/completions', 'openai-compatible', 'chat.completions'],
    ['localhost', 1234, '/v1/embeddings', 'openai-compatible', 'embeddings'],
    ['localhost', 8000, '/v1/completions', 'openai-compatible', 'completions'],
    ['localhost', 11434, '/v1/completions', 'ollama', 'completions'],
    ['proxy.individual.githubcopilot.com', 443, '/v1/engines/gpt-41-copilot/completions', 'github-copilot', 'completions'],
    ['copilot-proxy.githubusercontent.com', 443, '/v1/engines/copilot-codex/completions', 'github-copilot', 'completions'],
    ['localhost', 8080, '/health', undefined, 'other'],
    ['api.openai.com', 443, '/api/chat', 'openai', 'other'],
    // Embeddings, whoever serves them: Google's embedContent / batchEmbedContents, Ollama's /api/embed.
    ['generativelanguage.googleapis.com', 443, '/v1beta/models/gemini-embedding-001:embedContent', 'gemini', 'embeddings'],
    ['generativelanguage.googleapis.com', 443, '/v1beta/models/text-embedding-004:batchEmbedContents?key=x', 'gemini', 'embeddings'],
    ['us-central1-aiplatform.googleapis.com', 443, '/v1/projects/p/locations/us-central1/publishers/google/models/gemini-embedding-001:embedContent', 'vertex-ai', 'embeddings'],
    ['localhost', 11434, '/api/embed', 'ollama', 'embeddings'],
    ['gpu-box.lan', 8080, '/api/embed', 'ollama', 'embeddings'],
    ['localhost', 11434, '/api/embeddings', 'ollama', 'embeddings'],
    ['api.openai.com', 443, '/api/embed', 'openai', 'other'],
  ])('%s:%i %s → %s %s', (host, port, path, provider, api) => {
    expect(identifyRequest(host, port, path)).toEqual(provider === undefined ? { api } : { provider, api });
  });
});

describe('path scope and Azure deployments', () => {
  it('records only paths under a scope\'s prefixes', () => {
    const scope = ['/backend-api/codex/'];
    expect(pathRecorded(undefined, '/anything')).toBe(true);
    expect(pathRecorded(scope, '/backend-api/codex/responses')).toBe(true);
    expect(pathRecorded(scope, '/backend-api/codex/responses?x=1')).toBe(true);
    expect(pathRecorded(scope, '/backend-api/conversation')).toBe(false);
    expect(pathRecorded(scope, '/backend-api/codexfoo')).toBe(false);
    expect(pathRecorded(scope, '/?q=/backend-api/codex/')).toBe(false);
  });

  it('takes the deployment name from an Azure path', () => {
    expect(factsFromPath('/openai/deployments/gpt-4o-prod/chat/completions?api-version=2024-10-21')).toEqual({ model: 'gpt-4o-prod' });
    expect(factsFromPath('/openai/deployments/my%20dep/embeddings').model).toBe('my dep');
    expect(factsFromPath('/openai/v1/chat/completions')).toEqual({});
    expect(factsFromPath('/v1/chat/completions')).toEqual({});
    // Copilot's inline completions (and OpenAI's old engines API) name the model as the engine.
    expect(factsFromPath('/v1/engines/gpt-41-copilot/completions')).toEqual({ model: 'gpt-41-copilot' });
    expect(factsFromPath('/v1/engines/copilot-codex/completions?x=1')).toEqual({ model: 'copilot-codex' });
    expect(factsFromPath('/v1/completions')).toEqual({});
  });

  it('takes model and stream flag from Gemini and Vertex AI paths', () => {
    expect(factsFromPath('/v1beta/models/gemini-2.5-flash:generateContent')).toEqual({ model: 'gemini-2.5-flash', stream: false });
    expect(factsFromPath('/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse')).toEqual({ model: 'gemini-2.5-pro', stream: true });
    expect(factsFromPath('/v1/projects/p/locations/us-east5/publishers/anthropic/models/claude-sonnet-4-5@20250929:streamRawPredict')).toEqual({ model: 'claude-sonnet-4-5@20250929', stream: true });
    expect(factsFromPath('/v1internal:streamGenerateContent?alt=sse')).toEqual({ stream: true });
    expect(factsFromPath('/v1beta/models/gemini-2.5-flash:countTokens')).toEqual({ model: 'gemini-2.5-flash' });
  });

  it('knows Google\'s API paths and hosts, regional Vertex endpoints included', () => {
    expect(identifyApi('/v1beta/models/gemini-2.5-flash:generateContent')).toBe('gemini.generateContent');
    expect(identifyApi('/v1internal:streamGenerateContent?alt=sse')).toBe('gemini.generateContent');
    expect(identifyApi('/v1beta/models/gemini-2.5-flash:countTokens')).toBe('gemini.countTokens');
    expect(identifyApi('/v1/projects/p/locations/global/publishers/anthropic/models/claude-opus-4-1:rawPredict')).toBe('messages');
    expect(identifyProvider('cloudcode-pa.googleapis.com', 443)).toBe('gemini-code-assist');
    expect(identifyProvider('us-east5-aiplatform.googleapis.com', 443)).toBe('vertex-ai');
    expect(identifyProvider('aiplatform.googleapis.com', 443)).toBe('vertex-ai');
    expect(identifyProvider('storage.googleapis.com', 443)).toBeUndefined();
  });
});
