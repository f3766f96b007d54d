import type { LimitsRule } from './compile.js';
import type { LimitsDecision, MatchFacts } from './types.js';

/** One max-tokens field lowered to the cap: its JSON path in the body, what it was, what it became. */
export interface Clamp {
  path: string[];
  from: number;
  to: number;
}

export interface LimitsEvaluation {
  decisions: LimitsDecision[];
  block?: 'request_too_large' | 'max_tokens_exceeded';
  /** Fields the enforced rule lowered (the parsed body is changed in place too). */
  clamps: Clamp[];
}

/**
 * Where each API names the most output a request may produce: Chat Completions
 * (max_tokens, max_completion_tokens), Responses (max_output_tokens), Messages
 * (max_tokens), Gemini (generationConfig.maxOutputTokens), Bedrock Converse
 * (inferenceConfig.maxTokens), Ollama (options.num_predict). The token pre-check
 * (evaluate.ts declaredMaxTokens) reads the same fields in this order, field by field.
 */
export const TOKEN_FIELDS: readonly string[][] = [
  ['max_tokens'], ['max_completion_tokens'], ['max_output_tokens'],
  ['generationConfig', 'maxOutputTokens'], ['inferenceConfig', 'maxTokens'], ['options', 'num_predict'],
];

/** The numeric max-tokens fields a body carries, with their values. */
export function tokenFields(body: unknown): { path: string[]; value: number }[] {
  const out: { path: string[]; value: number }[] = [];
  if (!body || typeof body !== 'object' || Array.isArray(body)) return out;
  for (const path of TOKEN_FIELDS) {
    let node: unknown = body;
    for (const part of path) node = node && typeof node === 'object' && !Array.isArray(node) ? (node as Record<string, unknown>)[part] : undefined;
    if (typeof node === 'number' && Number.isFinite(node)) out.push({ path, value: node });
  }
  return out;
}

/**
 * Limits rules for one request, pure over the facts, the parsed body and the size
 * of the body as sent. The first enforced rule that matches decides (monitor rules
 * before it are recorded). An enforced clamp lowers the fields in `body` itself, so
 * later stages (the token rate limit's pre-check, re-serialisation after redaction)
 * see the clamped value. A request that names no max-tokens field is left alone.
 */
export function evaluateLimits(rules: readonly LimitsRule[], facts: MatchFacts, body: unknown, bodySize: number): LimitsEvaluation {
  const out: LimitsEvaluation = { decisions: [], clamps: [] };
  for (const rule of rules) {
    if (!rule.match(facts)) continue;
    const enforced = rule.mode === 'enforce';
    if (rule.maxRequestBytes !== undefined && bodySize > rule.maxRequestBytes) {
      out.decisions.push({ rule: rule.id, kind: 'limits', action: 'block', enforced, limit: 'requestBytes', from: bodySize, to: rule.maxRequestBytes });
      if (enforced) return { ...out, block: 'request_too_large' };
      continue;
    }
    const cap = rule.maxTokens;
    const fields = cap === undefined ? NONE : tokenFields(body);
    const over = fields.length === 0 ? NONE : fields.filter((f) => f.value > cap!);
    if (cap !== undefined && over.length > 0) {
      for (const f of over) {
        out.decisions.push({ rule: rule.id, kind: 'limits', action: rule.onMaxTokens, enforced, limit: 'maxTokens', field: f.path.join('.'), from: f.value, to: cap });
      }
      if (!enforced) continue;
      if (rule.onMaxTokens === 'block') return { ...out, block: 'max_tokens_exceeded' };
      // A signed request goes as signed (signed-request.ts): the cap is recorded as not applied.
      if (facts.signed !== undefined) {
        for (const d of out.decisions) if (d.rule === rule.id) d.notApplied = facts.signed;
        break;
      }
      for (const f of over) {
        setPath(body, f.path, cap);
        out.clamps.push({ path: f.path, from: f.value, to: cap });
      }
    }
    if (enforced) break;
  }
  return out;
}

const NONE: readonly { path: string[]; value: number }[] = [];

function setPath(body: unknown, path: string[], value: number): void {
  let node = body as Record<string, unknown>;
  for (const part of path.slice(0, -1)) node = node[part] as Record<string, unknown>;
  node[path[path.length - 1]!] = value;
}
