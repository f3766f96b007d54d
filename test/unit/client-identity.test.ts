import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readAgentMetadata } from '../../src/providers/agent-metadata.js';
import { readQuota } from '../../src/providers/quota-headers.js';
import { IDENTITY_HEADERS, identifyTool } from '../../src/providers/tool-identity.js';

describe('identifyTool', () => {
  it.each([
    [['User-Agent', 'claude-cli/1.0.83 (external, cli)', 'x-stainless-lang', 'js', 'x-app', 'cli'], { name: 'claude-code', version: '1.0.83' }],
    [['User-Agent', 'claude-cli/2.0.14 (external, sdk-ts)'], { name: 'claude-code', version: '2.0.14' }],
    [['User-Agent', 'codex_cli_rs/0.46.0 (Mac OS 15.6.1; arm64) iTerm.app/3.6.1', 'originator', 'codex_cli_rs'], { name: 'codex', version: '0.46.0' }],
    [['User-Agent', 'codex_exec/0.46.0 (Ubuntu 24.4.0; x86_64) xterm-256color', 'originator', 'codex_exec'], { name: 'codex', version: '0.46.0' }],
    [['originator', 'codex_vscode', 'User-Agent', 'node'], { name: 'codex' }],
    [['User-Agent', 'GeminiCLI/0.1.5 (darwin; arm64)', 'x-goog-api-client', 'google-genai-sdk/1.12.0 gl-node/v20.19.0'], { name: 'gemini-cli', version: '0.1.5' }],
    [['User-Agent', 'GitHubCopilotChat/0.22.4', 'Copilot-Integration-Id', 'vscode-chat', 'Editor-Version', 'vscode/1.95.0'], { name: 'copilot', version: '0.22.4' }],
    [['User-Agent', 'node-fetch', 'copilot-integration-id', 'vscode-chat', 'editor-plugin-version', 'copilot-chat/0.31.2'], { name: 'copilot', version: '0.31.2' }],
    // Inline suggestions: the Copilot extension and language server (JetBrains, Neovim, …).
    [['User-Agent', 'GithubCopilot/1.388.0', 'Editor-Version', 'vscode/1.104.0', 'Editor-Plugin-Version', 'copilot/1.388.0', 'Openai-Intent', 'copilot-ghost'], { name: 'copilot', version: '1.388.0' }],
    [['User-Agent', 'node-fetch', 'editor-version', 'JetBrains-IC/2025.2', 'editor-plugin-version', 'copilot-intellij/1.5.57'], { name: 'copilot', version: '1.5.57' }],
    [['User-Agent', 'OpenAI/Python 1.51.0', 'X-Title', 'Aider', 'HTTP-Referer', 'https://aider.chat'], { name: 'aider' }],
    [['User-Agent', 'opencode/0.15.2 ai-sdk/provider-utils/3.0.9 runtime/bun/1.2.21'], { name: 'opencode', version: '0.15.2' }],
    [['User-Agent', 'OpenAI/JS 6.3.0', 'x-stainless-lang', 'js', 'x-stainless-package-version', '6.3.0'], { name: 'openai-sdk-node', version: '6.3.0' }],
    [['User-Agent', 'OpenAI/Python 1.51.0'], { name: 'openai-sdk-python', version: '1.51.0' }],
    [['User-Agent', 'Anthropic/JS 0.65.0'], { name: 'anthropic-sdk-node', version: '0.65.0' }],
    [['User-Agent', 'Anthropic/Python 0.40.0'], { name: 'anthropic-sdk-python', version: '0.40.0' }],
    [['User-Agent', 'google-genai-sdk/1.20.0 gl-python/3.12.3'], { name: 'google-genai-sdk-python', version: '1.20.0' }],
    [['x-goog-api-client', 'google-genai-sdk/1.30.0 gl-node/v20.20.2'], { name: 'google-genai-sdk-node', version: '1.30.0' }],
    [['User-Agent', 'ollama-js/0.6.4 (x64 linux Node.js/v20.20.2)'], { name: 'ollama-js', version: '0.6.4' }],
    [['User-Agent', 'aws-sdk-js/3.1178.0 ua/2.1 os/linux#6.1 lang/js md/nodejs#20.20.2 api/bedrock-runtime#3.1178.0'], { name: 'aws-sdk', version: '3.1178.0' }],
    [['User-Agent', 'curl/8.14.1'], { name: 'curl', version: '8.14.1' }],
    [['User-Agent', 'python-requests/2.32.3'], { name: 'python-requests', version: '2.32.3' }],
    [['User-Agent', 'python-httpx/0.28.1'], { name: 'httpx', version: '0.28.1' }],
    [['User-Agent', 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36'], { name: 'chrome', version: '131.0.0.0' }],
    [['User-Agent', 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.86'], { name: 'edge', version: '131.0.2903.86' }],
    [['User-Agent', 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0'], { name: 'firefox', version: '133.0' }],
    [['User-Agent', 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15'], { name: 'safari', version: '18.1' }],
    [['User-Agent', 'MyAgent/3.2 (+https://example.test)'], { name: 'MyAgent', version: '3.2' }],
    [['x-stainless-lang', 'python', 'x-stainless-package-version', '1.40.0'], { name: 'stainless-sdk-python', version: '1.40.0' }],
  ])('%j → %j', (headers, expected) => {
    expect(identifyTool(headers)).toEqual(expected);
  });

  it('gives nothing for a request without any identifying header', () => {
    expect(identifyTool(['content-type', 'application/json'])).toBeUndefined();
  });

  it('remembers an identity by the headers that decide it, and only by them', () => {
    const first = identifyTool(['User-Agent', 'MyAgent/3.2', 'x-request-id', 'a']);
    // Another request (another array) with the same identifying headers: the same answer, frozen (it is shared).
    expect(identifyTool(['User-Agent', 'MyAgent/3.2', 'x-request-id', 'b'])).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    // Same User-Agent, one identifying header more: identified again, not taken from the memo.
    expect(identifyTool(['User-Agent', 'MyAgent/3.2', 'X-Stainless-Lang', 'python'])).toEqual({ name: 'stainless-sdk-python' });
    expect(identifyTool(['User-Agent', 'node-fetch', 'copilot-integration-id', 'vscode-chat'])).toEqual({ name: 'copilot' });
    expect(identifyTool(['User-Agent', 'node-fetch'])).toEqual({ name: 'node-fetch' });
  });

  it('the memo key names every header the rules read (a rule reading a new one must add it)', () => {
    const source = readFileSync(fileURLToPath(new URL('../../src/providers/tool-identity.ts', import.meta.url)), 'utf8');
    const read = new Set([...source.matchAll(/headerValue\(\w+, '([^']+)'\)/g)].map((m) => m[1]!));
    expect(read.size).toBeGreaterThan(5);
    for (const name of read) expect([...IDENTITY_HEADERS, 'user-agent']).toContain(name);
  });
});

describe('readAgentMetadata', () => {
  it('Claude Code: session header, subagent id, and the session inside metadata.user_id (JSON form)', () => {
    const userId = JSON.stringify({ device_id: 'd'.repeat(64), account_uuid: '0b7c', session_id: 'aaaaaaaa-1111-2222-3333-444444444444' });
    expect(readAgentMetadata(['x-claude-code-agent-id', 'agent-7', 'x-client-request-id', 'req-1'], { model: 'claude-sonnet-4-5', metadata: { user_id: userId } })).toEqual({
      sessionId: 'aaaaaaaa-1111-2222-3333-444444444444', agentId: 'agent-7', clientRequestId: 'req-1',
    });
    expect(readAgentMetadata(['X-Claude-Code-Session-Id', 'bbbbbbbb-1111-2222-3333-444444444444'], {})).toEqual({ sessionId: 'bbbbbbbb-1111-2222-3333-444444444444' });
  });

  it('Claude Code: the older user_…_account_…_session_<uuid> form', () => {
    const body = { metadata: { user_id: `user_${'f'.repeat(64)}_account_0b7c_session_cccccccc-1111-2222-3333-444444444444` } };
    expect(readAgentMetadata([], body)?.sessionId).toBe('cccccccc-1111-2222-3333-444444444444');
  });

  it('Codex: session and thread headers, turn metadata, and Responses chaining fields', () => {
    const turn = JSON.stringify({ turn_id: 'turn-3', request_kind: 'turn' });
    expect(readAgentMetadata(['session_id', 's-1', 'thread-id', 't-1', 'x-codex-turn-metadata', turn, 'conversation_id', 'c-9'], {
      previous_response_id: 'resp_1', prompt_cache_key: 'pck-1',
    })).toEqual({ sessionId: 's-1', threadId: 't-1', turnId: 'turn-3', requestKind: 'turn', conversationId: 'c-9', previousResponseId: 'resp_1', promptCacheKey: 'pck-1' });
  });

  it('Conversations API: conversation as an id or an object', () => {
    expect(readAgentMetadata([], { conversation: 'conv_1' })).toEqual({ conversationId: 'conv_1' });
    expect(readAgentMetadata([], { conversation: { id: 'conv_2' } })).toEqual({ conversationId: 'conv_2' });
  });

  it('nothing on the wire → undefined; malformed values are ignored', () => {
    expect(readAgentMetadata([], undefined)).toBeUndefined();
    expect(readAgentMetadata(['x-codex-turn-metadata', '{nope'], { metadata: { user_id: 42 }, previous_response_id: 7 })).toBeUndefined();
  });
});

describe('readQuota', () => {
  it('Anthropic: request/token limits and the subscription unified windows', () => {
    expect(readQuota([
      'anthropic-ratelimit-unified-status', 'allowed',
      'anthropic-ratelimit-unified-5h-utilization', '0.42',
      'anthropic-ratelimit-unified-5h-reset', '1764950400',
      'anthropic-ratelimit-unified-7d-utilization', '0.13',
      'anthropic-ratelimit-unified-representative-claim', 'five_hour',
      'anthropic-ratelimit-tokens-remaining', '79000',
      'content-type', 'application/json',
    ])).toEqual({ anthropic: {
      'unified-status': 'allowed', 'unified-5h-utilization': 0.42, 'unified-5h-reset': 1764950400,
      'unified-7d-utilization': 0.13, 'unified-representative-claim': 'five_hour', 'tokens-remaining': 79000,
    } });
  });

  it('OpenAI x-ratelimit-* and Codex x-codex-* usage percentages, windows and resets', () => {
    expect(readQuota([
      'x-ratelimit-limit-requests', '500', 'x-ratelimit-remaining-tokens', '29000', 'x-ratelimit-reset-requests', '6m0s',
      'x-codex-primary-used-percent', '37.5', 'x-codex-primary-window-minutes', '300', 'x-codex-secondary-reset-after-seconds', '86000',
      'x-codex-something-else', 'x',
    ])).toEqual({
      openai: { 'limit-requests': 500, 'remaining-tokens': 29000, 'reset-requests': '6m0s' },
      codex: { 'primary-used-percent': 37.5, 'primary-window-minutes': 300, 'secondary-reset-after-seconds': 86000 },
    });
  });

  it('no quota headers → undefined', () => {
    expect(readQuota(['content-type', 'application/json'])).toBeUndefined();
  });
});
