/**
 * JSON Schema of a policy file (validated with ajv). Every object is closed
 * (`additionalProperties: false`) so a misspelt key is an error, never a rule
 * silently switched off. Cross-field checks ajv words badly (exactly one action
 * per rule, valid regexes, globs, CIDRs) are made in compile.ts with the same
 * file:line messages.
 */
import { ROUTING_RULE_PROPERTIES } from './routing-schema.js';

const stringOrList = { type: ['string', 'array'], items: { type: 'string', minLength: 1 }, minLength: 1 } as const;

const DETECTORS = ['api_key', 'private_key', 'jwt', 'email', 'card', 'iban', 'ipv4'];

export const POLICY_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['rules'],
  properties: {
    version: { const: 1 },
    teams: {
      type: 'object',
      additionalProperties: { type: 'array', items: { type: 'string', minLength: 1 } },
    },
    rules: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        properties: {
          id: { type: 'string', minLength: 1, maxLength: 100 },
          mode: { enum: ['enforce', 'monitor'] },
          match: {
            type: 'object',
            additionalProperties: false,
            properties: {
              provider: stringOrList, host: stringOrList, path: stringOrList, api: stringOrList, model: stringOrList,
              tool: stringOrList, client: stringOrList, user: stringOrList, team: stringOrList, session: stringOrList,
            },
          },
          action: { enum: ['allow', 'deny'] },
          redact: {
            type: 'object',
            additionalProperties: false,
            properties: {
              detectors: { type: 'array', items: { enum: DETECTORS } },
              patterns: {
                type: 'array',
                items: {
                  type: 'object',
                  additionalProperties: false,
                  required: ['name', 'regex'],
                  properties: {
                    name: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,40}$', description: 'a name of letters, digits, _ and -, at most 40' },
                    regex: { type: 'string', minLength: 1 },
                    flags: { type: 'string', pattern: '^[imsu]*$', description: 'regular-expression flags among i, m, s and u' },
                  },
                },
              },
              action: { enum: ['replace', 'block'] },
            },
          },
          rateLimit: {
            type: 'object',
            additionalProperties: false,
            properties: {
              requestsPerMinute: { type: 'number', exclusiveMinimum: 0 },
              tokensPerMinute: { type: 'number', exclusiveMinimum: 0 },
              per: { enum: ['user', 'team', 'tool', 'model', 'provider', 'client'] },
            },
          },
          cache: {
            type: 'object',
            additionalProperties: false,
            required: ['ttl'],
            properties: {
              ttl: { type: 'string', pattern: '^\\s*\\d+(\\.\\d+)?(ms|s|m|h|d)\\s*$', description: 'a duration such as 30s, 10m, 1h or 7d' },
              maxEntries: { type: 'integer', minimum: 1 },
              maxBytes: { type: 'integer', minimum: 1 },
              when: {
                type: 'object',
                additionalProperties: false,
                properties: { temperature: { type: ['number', 'array'], items: { type: 'number' }, minItems: 1 } },
              },
            },
          },
          // budgets and limits (budget.ts, limits.ts)
          budget: {
            type: 'object',
            additionalProperties: false,
            required: ['usd', 'period', 'per'],
            properties: {
              usd: { type: 'number', exclusiveMinimum: 0 },
              period: { enum: ['day', 'week', 'month'] },
              per: { enum: ['user', 'team', 'tool', 'model'] },
              warnAt: { type: 'number', exclusiveMinimum: 0, maximum: 1 },
            },
          },
          limits: {
            type: 'object',
            additionalProperties: false,
            properties: {
              maxRequestBytes: { type: 'integer', minimum: 1 },
              maxTokens: { type: 'integer', minimum: 1 },
              onMaxTokens: { enum: ['clamp', 'block'] },
            },
          },
          ...ROUTING_RULE_PROPERTIES,
        },
      },
    },
  },
} as const;
