/**
 * JSON Schema of the routing actions (route, fallback, credentials), spread into a
 * rule's properties by schema.ts. URLs and triggers are checked again in
 * routing-compile.ts, which can name what is wrong with them.
 */

/** No control characters: a model name or path from the policy never puts a line break on the wire. */
const PRINTABLE = '^[^\\u0000-\\u001f\\u007f]+$';

const target = {
  upstream: { type: 'string', minLength: 1, maxLength: 300 },
  model: { type: 'string', minLength: 1, maxLength: 200, pattern: PRINTABLE, description: 'a model name without control characters' },
  pathPrefix: { type: 'string', pattern: "^/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$", maxLength: 200, description: 'a path starting with / (URL path characters only)' },
} as const;

export const ROUTING_RULE_PROPERTIES = {
  route: { type: 'object', additionalProperties: false, minProperties: 1, properties: target },
  fallback: {
    type: 'object',
    additionalProperties: false,
    required: ['upstreams'],
    properties: {
      upstreams: {
        type: 'array',
        minItems: 1,
        maxItems: 8,
        items: {
          type: ['string', 'object'],
          minLength: 1,
          additionalProperties: false,
          required: ['upstream'],
          properties: target,
        },
      },
      on: { type: 'array', minItems: 1, items: { type: ['string', 'integer'] } },
    },
  },
  credentials: {
    type: 'object',
    additionalProperties: false,
    minProperties: 1,
    properties: {
      fromEnv: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$', description: 'an environment variable name (letters, digits and _)' },
      fromFile: { type: 'string', minLength: 1 },
      header: { enum: ['authorization', 'x-api-key', 'api-key', 'x-goog-api-key'] },
    },
  },
} as const;
