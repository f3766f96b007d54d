import type { Reassembled, RawHeaders } from '../../src/exchange.js';
import { readAgentMetadata } from '../../src/providers/agent-metadata.js';
import { asObject } from '../../src/providers/json.js';
import type { ExchangeSummary } from '../../src/sessions/group.js';
import { summarizeForGrouping } from '../../src/sessions/summary.js';

/** Request bodies and headers shaped like the traffic of real agents, for the grouping tests. */

export interface Wire {
  id: string;
  startedAt: number;
  address: string;
  toolName?: string;
  api: string;
  headers: RawHeaders;
  body: Record<string, unknown>;
  answer?: Reassembled;
  responseId?: string;
}

export function summarize(wire: Wire): ExchangeSummary {
  const input: Parameters<typeof summarizeForGrouping>[0] = {
    id: wire.id,
    startedAt: wire.startedAt,
    client: { address: wire.address },
    api: wire.api,
    request: wire.body,
  };
  const agent = readAgentMetadata(wire.headers, asObject(wire.body));
  if (agent) input.agent = agent;
  if (wire.toolName !== undefined) input.toolName = wire.toolName;
  if (wire.answer) input.answer = wire.answer;
  if (wire.responseId !== undefined) input.responseId = wire.responseId;
  return summarizeForGrouping(input);
}

export function answer(text: string, toolCalls: Reassembled['toolCalls'] = []): Reassembled {
  return { text, toolCalls, events: 3 };
}

export type AnthropicMessage = { role: 'user' | 'assistant'; content: string | Record<string, unknown>[] };

/**
 * Claude Code: it marks the newest two messages with cache_control every turn (turning
 * string content into block arrays to have somewhere to put it) and the system prompt too.
 */
export function claudeCodeBody(sessionId: string, messages: AnthropicMessage[], options: { system?: string; tools?: string[] } = {}): Record<string, unknown> {
  const marked = messages.map((m, i) => {
    if (i < messages.length - 2) return structuredClone(m);
    const blocks = typeof m.content === 'string' ? [{ type: 'text', text: m.content }] : structuredClone(m.content);
    blocks[blocks.length - 1]!.cache_control = { type: 'ephemeral' };
    return { role: m.role, content: blocks };
  });
  const body: Record<string, unknown> = {
    model: 'claude-sonnet-4-5-20250929',
    max_tokens: 32000,
    stream: true,
    system: [
      { type: 'text', text: "You are Claude Code, Anthropic's official CLI for Claude." },
      { type: 'text', text: options.system ?? 'You are an interactive CLI tool that helps users with software engineering tasks.', cache_control: { type: 'ephemeral' } },
    ],
    messages: marked,
    metadata: { user_id: JSON.stringify({ device_id: 'd1e2', account_uuid: 'acc-42', session_id: sessionId }) },
  };
  const tools = options.tools ?? ['Task', 'Bash', 'Read', 'Edit'];
  if (tools.length > 0) body.tools = tools.map((name) => ({ name, description: `${name} tool`, input_schema: { type: 'object', properties: {} } }));
  return body;
}

export function claudeCodeHeaders(sessionId: string, agentId?: string): RawHeaders {
  const headers = ['User-Agent', 'claude-cli/2.0.14 (external, cli)', 'x-claude-code-session-id', sessionId, 'anthropic-version', '2023-06-01'];
  if (agentId !== undefined) headers.push('x-claude-code-agent-id', agentId);
  return headers;
}

/** Chat Completions as the OpenAI SDK sends it when a script appends `completion.choices[0].message` (nulls and all). */
export function sdkAssistant(content: string | null, toolCalls?: { id: string; name: string; arguments: string }[]): Record<string, unknown> {
  const message: Record<string, unknown> = { role: 'assistant', content, refusal: null, annotations: [] };
  if (toolCalls) message.tool_calls = toolCalls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } }));
  return message;
}

/** A plain SDK conversation of `turns` requests without any ids, each resending the history. */
export function sdkConversation(label: string, turns: number, address: string, ids: string[], start: number): Wire[] {
  const messages: Record<string, unknown>[] = [{ role: 'system', content: 'You are terse.' }, { role: 'user', content: `${label}: question 1` }];
  const out: Wire[] = [];
  for (let t = 1; t <= turns; t++) {
    const useTool = t % 2 === 0;
    const reply = useTool ? answer('', [{ id: `call_${label}_${t}`, name: 'lookup', arguments: `{"q":"${label}","n":${t}}` }]) : answer(`${label}: answer ${t}`);
    out.push({
      id: ids[t - 1]!, startedAt: start + t * 1000, address, toolName: 'openai-sdk', api: 'chat.completions',
      headers: ['User-Agent', 'OpenAI/JS 6.3.0'],
      body: { model: 'gpt-4.1-mini', messages: structuredClone(messages), tools: [{ type: 'function', function: { name: 'lookup', parameters: {} } }] },
      answer: reply,
    });
    if (useTool) {
      // The SDK hands back the arguments as the model wrote them; scripts resend them re-serialised.
      messages.push(sdkAssistant(null, [{ id: `call_${label}_${t}`, name: 'lookup', arguments: JSON.stringify({ n: t, q: label }) }]));
      messages.push({ role: 'tool', tool_call_id: `call_${label}_${t}`, content: `result ${t}` });
    } else {
      messages.push(sdkAssistant(`${label}: answer ${t}`));
      messages.push({ role: 'user', content: `${label}: question ${t + 1}` });
    }
  }
  return out;
}
