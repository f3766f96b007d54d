import { describe, expect, it } from 'vitest';
import { hostMatches, patternError } from '../../src/host-pattern.js';
import { decideRoute, formatAuthority, makeInterceptList, parseAuthority, recordScope } from '../../src/proxy/route.js';

describe('host patterns', () => {
  it.each([
    ['api.openai.com', 'api.openai.com', 443, true],
    ['api.openai.com', 'API.OpenAI.com.', 443, true],
    ['api.openai.com', 'xapi.openai.com', 443, false],
    ['*.openai.azure.com', 'myco.openai.azure.com', 443, true],
    ['*.openai.azure.com', 'openai.azure.com', 443, false],
    ['*.openai.azure.com', 'evil-openai.azure.com.attacker.net', 443, false],
    ['localhost:11434', 'localhost', 11434, true],
    ['localhost:11434', 'localhost', 80, false],
    ['[::1]:8443', '::1', 8443, true],
    ['::1', '[::1]', 443, true],
    ['1.2.3.4', '1.2.3.4', 443, true],
  ])('%s matches %s:%i → %s', (pattern, host, port, expected) => {
    expect(hostMatches(pattern, host, port)).toBe(expected);
  });

  it('rejects malformed patterns with a message', () => {
    for (const bad of ['', 'a b', '*', '*.', '*.*', 'host:99999', 'http://x']) expect(patternError(bad), bad).toBeDefined();
    for (const good of ['api.x.ai', '*.example.com', 'localhost:11434', '[::1]:443', '*-aiplatform.googleapis.com', 'bedrock-runtime.*.amazonaws.com']) expect(patternError(good), good).toBeUndefined();
  });
});

describe('route decision', () => {
  const list = makeInterceptList(['localhost:11434', '*.internal.test'], ['api.groq.com']);
  it.each([
    ['api.openai.com', 443, 'intercept'],
    ['api.anthropic.com', 443, 'intercept'],
    ['generativelanguage.googleapis.com', 443, 'intercept'],
    ['westeurope.openai.azure.com', 443, 'intercept'],
    ['openrouter.ai', 443, 'intercept'],
    ['api.groq.com', 443, 'tunnel'], // passthrough wins over the built-in list
    ['github.com', 443, 'tunnel'],
    ['localhost', 11434, 'intercept'],
    ['llm.internal.test', 8443, 'intercept'],
  ])('%s:%i → %s', (host, port, expected) => {
    expect(decideRoute(list, host, port)).toBe(expected);
  });

  it('has every provider host the product promises built in', () => {
    const builtIn = makeInterceptList();
    for (const host of ['api.openai.com', 'api.anthropic.com', 'generativelanguage.googleapis.com', 'api.mistral.ai', 'api.groq.com', 'api.deepseek.com', 'api.x.ai', 'openrouter.ai', 'api.together.xyz', 'api.cohere.com', 'api.fireworks.ai', 'x.openai.azure.com']) {
      expect(decideRoute(builtIn, host, 443), host).toBe('intercept');
    }
  });

  it('intercepts the OpenAI-family hosts: Cerebras, Perplexity, Copilot, Azure AI, chatgpt.com', () => {
    const builtIn = makeInterceptList();
    for (const host of ['api.cerebras.ai', 'api.perplexity.ai', 'api.githubcopilot.com', 'api.individual.githubcopilot.com', 'x.cognitiveservices.azure.com', 'x.services.ai.azure.com', 'chatgpt.com']) {
      expect(decideRoute(builtIn, host, 443), host).toBe('intercept');
    }
    expect(decideRoute(makeInterceptList([], ['chatgpt.com']), 'chatgpt.com', 443)).toBe('tunnel');
  });

  it('scopes recording on chatgpt.com to the Codex paths, unless the user intercepts the host', () => {
    expect(recordScope(makeInterceptList(), 'chatgpt.com', 443)).toEqual(['/backend-api/codex/']);
    expect(recordScope(makeInterceptList(), 'api.openai.com', 443)).toBeUndefined();
    expect(recordScope(makeInterceptList(['chatgpt.com']), 'chatgpt.com', 443)).toBeUndefined();
  });
});

describe('CONNECT authority', () => {
  it.each([
    ['api.openai.com:443', { host: 'api.openai.com', port: 443 }],
    ['API.OPENAI.COM:443', { host: 'api.openai.com', port: 443 }],
    ['1.2.3.4:443', { host: '1.2.3.4', port: 443 }],
    ['[::1]:443', { host: '::1', port: 443 }],
    ['[2001:db8::1]:8443', { host: '2001:db8::1', port: 8443 }],
    ['example.com.:443', { host: 'example.com', port: 443 }],
  ])('%s parses', (input, expected) => {
    expect(parseAuthority(input)).toEqual(expected);
  });

  it.each(['api.openai.com', 'api.openai.com:', ':443', 'host:0', 'host:65536', '::1:443', '[nothex]:443', 'a b:443', 'user@host:443', 'host/path:443', '[::1]', 'http://x:443'])('%s is refused', (input) => {
    expect(parseAuthority(input)).toBeUndefined();
  });

  it('formats IPv6 in brackets', () => {
    expect(formatAuthority('::1', 443)).toBe('[::1]:443');
    expect(formatAuthority('a.b', 80)).toBe('a.b:80');
  });
});
