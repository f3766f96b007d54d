import { asObject, type JsonObject } from '../providers/json.js';
import type { Block, Conversation } from './conversation.js';
import { str, toolCall, toolResult } from './conversation-util.js';

/**
 * Gemini generateContent (Gemini API, Vertex AI, and Code Assist once unwrapped):
 * `contents` of role user/model with `parts`, `systemInstruction` (or the REST
 * spelling `system_instruction`), tools as `functionDeclarations`. Thought parts and
 * `thoughtSignature`s are model-private and may be dropped or replaced by clients
 * (synthetic signatures), so they are read as thinking and never as text.
 */
export function readGeminiContents(request: JsonObject): Conversation | undefined {
  if (!Array.isArray(request.contents)) return undefined;
  const conversation: Conversation = { tools: geminiTools(request.tools), messages: [] };
  const system = request.systemInstruction ?? request.system_instruction;
  const systemText = typeof system === 'string' ? system : partsOf(asObject(system)).map((p) => str(p.text) ?? '').join('\n');
  if (system !== undefined) conversation.system = systemText;
  for (const raw of request.contents) {
    const content = asObject(raw);
    if (!content) continue;
    const blocks = partsOf(content).map(geminiBlock);
    const role = content.role === 'model' ? 'assistant' : content.role === 'function' ? 'tool' : 'user';
    conversation.messages.push({ role, blocks });
  }
  return conversation;
}

function partsOf(content: JsonObject | undefined): JsonObject[] {
  const parts = content?.parts;
  return Array.isArray(parts) ? parts.map((p) => asObject(p)).filter((p) => p !== undefined) : [];
}

function geminiBlock(part: JsonObject): Block {
  if (typeof part.text === 'string') return part.thought === true ? { type: 'thinking', text: part.text } : { type: 'text', text: part.text };
  const call = asObject(part.functionCall);
  if (call) return toolCall(str(call.name) ?? '', call.args ?? {}, call.id);
  const response = asObject(part.functionResponse);
  if (response) return toolResult(JSON.stringify(response.response ?? {}), response.id ?? response.name);
  const kind = Object.keys(part).find((k) => k !== 'thoughtSignature' && k !== 'thought') ?? 'unknown';
  return { type: 'other', kind };
}

function geminiTools(tools: unknown): string[] {
  if (!Array.isArray(tools)) return [];
  const out: string[] = [];
  for (const raw of tools) {
    const tool = asObject(raw);
    if (!tool) continue;
    const declarations = tool.functionDeclarations ?? tool.function_declarations;
    if (Array.isArray(declarations)) {
      for (const d of declarations) {
        const name = str(asObject(d)?.name);
        if (name !== undefined) out.push(name);
      }
    } else {
      // googleSearch, codeExecution, urlContext…: named by their key.
      out.push(...Object.keys(tool));
    }
  }
  return out;
}
