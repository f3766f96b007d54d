import { canMatchBedrock } from './bedrock-route-model.js';
import { dotted } from './match.js';
import type { PolicyWarning } from './compile.js';
import type { RuleSpec } from './types.js';

export const BEDROCK_WARNING = 'has no effect on Bedrock requests, which the rule can match (the model is in the SigV4-signed path); recorded as not applied there';
export const REDACT_WARNING = 'cannot replace in Bedrock requests, which the rule can match (SigV4-signed: the body cannot change): a hit there refuses the request (content_blocked)';
export const CLAMP_WARNING = 'is not applied to Bedrock requests, which the rule can match (SigV4-signed: the body cannot change): they go as signed, recorded as not applied (onMaxTokens: block refuses them instead)';
export const PATH_WARNING = 'has no effect on signed Bedrock requests, which the rule can match (the path is SigV4-signed at the origin the client asked for); recorded as not applied there';
export const CREDENTIALS_WARNING = 'replaces the SigV4 signature of Bedrock requests, which the rule can match, and llmtap cannot sign: only a Bedrock API key (authorization: Bearer) is accepted there';

/**
 * What a rule says it does but cannot do to a Bedrock request, which its client signs
 * (signed-request.ts): a route's or fallback's model, a route's path prefix at the same origin, an enforced replace redaction (it
 * refuses instead), an enforced max-tokens clamp (not applied), a credentials rule (it can
 * only swap the signature for a key). Only for rules whose match can select Bedrock.
 */
export function signedWarnings(rule: RuleSpec, i: number): PolicyWarning[] {
  const out: PolicyWarning[] = [];
  const add = (path: (string | number)[], message: string): void => {
    out.push({ path, message, text: `${dotted(path)}: ${message}` });
  };
  const enforced = (rule.mode ?? 'enforce') === 'enforce';
  if (rule.route?.model !== undefined) add(['rules', i, 'route', 'model'], BEDROCK_WARNING);
  // At another origin the client's signature is withheld anyway (as every credential is).
  if (rule.route?.pathPrefix !== undefined && rule.route.upstream === undefined) add(['rules', i, 'route', 'pathPrefix'], PATH_WARNING);
  rule.fallback?.upstreams.forEach((u, j) => {
    if (typeof u === 'object' && u.model !== undefined) add(['rules', i, 'fallback', 'upstreams', j, 'model'], BEDROCK_WARNING);
  });
  if (enforced && rule.redact && (rule.redact.action ?? 'replace') === 'replace') add(['rules', i, 'redact'], REDACT_WARNING);
  if (enforced && rule.limits?.maxTokens !== undefined && (rule.limits.onMaxTokens ?? 'clamp') === 'clamp') add(['rules', i, 'limits', 'maxTokens'], CLAMP_WARNING);
  if (rule.credentials) add(['rules', i, 'credentials'], CREDENTIALS_WARNING);
  // The match is read only when the rule has something to warn about.
  return out.length > 0 && canMatchBedrock(rule.match) ? out : [];
}
