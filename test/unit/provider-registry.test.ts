import { describe, expect, it } from 'vitest';
import type { ApiKind, ProviderId } from '../../src/exchange.js';
import { anthropicMessages } from '../../src/providers/anthropic.js';
import { openaiChat } from '../../src/providers/openai.js';
import { PROVIDER_HOSTS, identifyApi, identifyProvider, parserFor } from '../../src/providers/registry.js';

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
    ['/v1/messages/count_tokens', 'other'],
    ['/v1/messages/batches', 'other'],
    ['/v1/threads/thread_abc/messages', 'other'],
    ['/v1/responses', 'responses'],
    ['/openai/v1/responses?api-version=preview', 'responses'],
    ['/v1/responses/resp_123', 'other'],
    ['/v1/embeddings', 'embeddings'],
    ['/openai/deployments/ada/embeddings?api-version=2024-10-21', 'embeddings'],
    ['/v1/models', 'other'],
    ['/v1/completions', 'other'],
    ['/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse', 'other'],
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
    expect(parserFor('responses')).toBeUndefined();
    expect(parserFor('embeddings')).toBeUndefined();
    expect(parserFor('other')).toBeUndefined();
  });
});
