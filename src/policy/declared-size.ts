import type { LimitsRule } from './compile.js';
import type { LimitsDecision, MatchFacts } from './types.js';

/**
 * The enforced limits rule a request's declared body size (Content-Length) already
 * breaks, decided from its head alone, before the body is read: such a request is
 * refused without its body being uploaded (a client that sent `Expect: 100-continue`
 * never gets its 100). Pure. `facts` are the head's (no model or session, which a body
 * may name). The same order as evaluateLimits (limits.ts): the first enforced rule that
 * matches decides, so while an enforced rule whose match reads the body comes first,
 * nothing is decided here and the body check after the read decides as before.
 */
export function declaredSizeBlock(rules: readonly LimitsRule[], facts: MatchFacts, declared: number): LimitsDecision | undefined {
  for (const rule of rules) {
    const enforced = rule.mode === 'enforce';
    if (!enforced) continue; // monitor rules only record, after the body is read
    if (rule.matchReadsBody) return undefined; // it may match, and then decide
    if (!rule.match(facts)) continue;
    if (rule.maxRequestBytes !== undefined && declared > rule.maxRequestBytes) {
      return { rule: rule.id, kind: 'limits', action: 'block', enforced, limit: 'requestBytes', from: declared, to: rule.maxRequestBytes };
    }
    return undefined;
  }
  return undefined;
}
