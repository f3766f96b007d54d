import { describe, expect, it } from 'vitest';
import { isSubscriptionTraffic } from '../../src/cost/subscription.js';

// Credential-shaped values are made up: only their prefixes matter.
describe('isSubscriptionTraffic', () => {
  it('Claude Code signed in with a Claude subscription: OAuth bearer token and the oauth beta', () => {
    expect(isSubscriptionTraffic(['Authorization', 'Bearer sk-ant-oat01-AAAA', 'anthropic-beta', 'claude-code-20250219,oauth-2025-04-20,interleaved-thinking-2025-05-14'], 'anthropic')).toBe(true);
    // Either sign alone is enough (a client may omit the beta; the token may be opaque).
    expect(isSubscriptionTraffic(['authorization', 'Bearer sk-ant-oat01-BBBB'], 'anthropic')).toBe(true);
    expect(isSubscriptionTraffic(['authorization', 'Bearer opaque', 'Anthropic-Beta', 'oauth-2025-04-20'], 'anthropic')).toBe(true);
  });

  it('API-key traffic is not a subscription: x-api-key, or a gateway bearer token', () => {
    expect(isSubscriptionTraffic(['x-api-key', 'sk-ant-api03-CCCC', 'anthropic-beta', 'prompt-caching-2024-07-31'], 'anthropic')).toBe(false);
    expect(isSubscriptionTraffic(['Authorization', 'Bearer sk-ant-api03-DDDD'], 'anthropic')).toBe(false);
    expect(isSubscriptionTraffic(['Authorization', 'Bearer sk-proj-EEEE'], 'openai')).toBe(false);
    expect(isSubscriptionTraffic([], 'anthropic')).toBe(false);
  });

  it('Codex with ChatGPT sign-in, GitHub Copilot and Gemini Code Assist are subscriptions by their front door', () => {
    expect(isSubscriptionTraffic(['Authorization', 'Bearer eyJ…', 'chatgpt-account-id', 'acct'], 'chatgpt')).toBe(true);
    expect(isSubscriptionTraffic(['Authorization', 'Bearer ghu_x', 'Copilot-Integration-Id', 'vscode-chat'], 'github-copilot')).toBe(true);
    expect(isSubscriptionTraffic(['Authorization', 'Bearer ya29.x'], 'gemini-code-assist')).toBe(true);
    // The same Google models through the Gemini API with a key are billed per token.
    expect(isSubscriptionTraffic(['x-goog-api-key', 'AIza…'], 'gemini')).toBe(false);
  });

  it('an Anthropic OAuth token means a subscription on any host (a gateway that forwards it)', () => {
    expect(isSubscriptionTraffic(['Authorization', 'Bearer sk-ant-oat01-FFFF'], 'openai-compatible')).toBe(true);
    expect(isSubscriptionTraffic(['Authorization', 'Bearer sk-ant-oat01-FFFF'])).toBe(true);
    expect(isSubscriptionTraffic(['Authorization', 'Bearer gw-token'], 'openai-compatible')).toBe(false);
  });
});
