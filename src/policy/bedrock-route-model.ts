import type { MatchSpec } from './types.js';
import { globToRegExp, matchValues } from './match.js';

/**
 * Why a route's model cannot change a Bedrock request: the model is in the path
 * (`/model/{modelId}/converse…`), and the path and body are covered by the client's SigV4
 * signature, which llmtap cannot redo (it never holds the AWS secret). Changing either
 * would get the request refused, so nothing changes and the decision says so.
 */
export const BEDROCK_MODEL_NOT_APPLIED = 'Bedrock: the model is in the SigV4-signed path, which cannot change without the client\'s AWS credentials';

/** The reason a request's model cannot be rewritten, or undefined when it can be. */
export function modelFixedReason(facts: { provider?: string; api?: string; signed?: string }): string | undefined {
  // Another SigV4-signed request (an AWS service intercepted): its body is signed too.
  return facts.provider === 'bedrock' || facts.api?.startsWith('bedrock.') ? BEDROCK_MODEL_NOT_APPLIED : facts.signed;
}

/** What Bedrock requests look like to a rule's match, for telling whether it can select one. */
const BEDROCK = {
  provider: ['bedrock'],
  api: ['bedrock.converse', 'bedrock.invoke'],
  host: ['bedrock-runtime.us-east-1.amazonaws.com', 'bedrock-runtime.us-west-2.amazonaws.com', 'bedrock-runtime.eu-central-1.amazonaws.com', 'bedrock-runtime.ap-northeast-1.amazonaws.com', 'bedrock-runtime-fips.us-east-1.amazonaws.com'],
  path: ['converse', 'converse-stream', 'invoke', 'invoke-with-response-stream'].map((op) => `/model/us.anthropic.claude-sonnet-4-5-20250929-v1:0/${op}`),
  model: [
    'anthropic.claude-sonnet-4-5-20250929-v1:0', 'us.anthropic.claude-sonnet-4-5-20250929-v1:0', 'global.anthropic.claude-haiku-4-5-20251001-v1:0',
    'amazon.nova-pro-v1:0', 'meta.llama3-1-70b-instruct-v1:0', 'mistral.mistral-large-2407-v1:0', 'openai.gpt-oss-120b-1:0',
    'arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-sonnet-4-5-20250929-v1:0',
  ],
} as const;

/** A plain (glob-free) value naming Bedrock, per field: its host names, paths and model ids (`[geo.]vendor.model…`, or an ARN; not `gpt-4o`, nor `llama3.1`). */
const NAMES: Record<keyof typeof BEDROCK, RegExp> = {
  provider: /^bedrock$/i,
  api: /^bedrock\.(converse|invoke)$/i,
  host: /^bedrock-runtime(-fips)?\.[^.]+\.amazonaws\.com$/i,
  path: /\/model\/[^/]+\/(converse|converse-stream|invoke|invoke-with-response-stream)$/,
  // The vendor's name, a dot, then a letter: `llama3.1`, `qwen2.5-coder` (a local model's version) are not Bedrock ids.
  model: /^(arn:aws[a-z-]*:bedrock:|([a-z]{2,}(-[a-z]+)?\.)?[a-z][a-z0-9]*\.[a-z])/i,
};

/**
 * Whether a rule's match can select a Bedrock request (for the load-time warning about a
 * route model that has no effect there). Each of provider, api, host, path and model
 * that the match gives must allow one: a glob is tried on sample Bedrock names, a plain
 * value by the shape of Bedrock's. Other fields (user, tool, client…) say nothing about
 * the provider: they allow it.
 */
export function canMatchBedrock(match: MatchSpec | undefined): boolean {
  if (!match) return true;
  return (Object.keys(BEDROCK) as (keyof typeof BEDROCK)[]).every((field) => {
    const given = matchValues(match[field]);
    if (given === undefined) return true;
    return given.some((value) => (/[*?]/.test(value)
      ? BEDROCK[field].some((name) => globToRegExp(value).test(name))
      : NAMES[field].test(field === 'path' ? value.split('?')[0]! : value)));
  });
}
