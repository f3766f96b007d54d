/**
 * The rate limiter's declared max tokens (evaluate.ts, written field by field for the hot
 * path) and the limits rule's field list (limits.ts) must name the same fields in the same
 * order: a field one knows and the other not would be capped but not pre-counted, or the reverse.
 */
import { describe, expect, it } from 'vitest';
import { declaredMaxTokens } from '../../src/policy/evaluate.js';
import { TOKEN_FIELDS, tokenFields } from '../../src/policy/limits.js';

function bodyWith(path: readonly string[], value: unknown): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  let node = body;
  path.forEach((part, i) => {
    if (i === path.length - 1) node[part] = value;
    else node = (node[part] = {}) as Record<string, unknown>;
  });
  return body;
}

const FIELDS = TOKEN_FIELDS;

describe('max-tokens fields', () => {
  it('each field the limits rule caps is the one the rate limiter pre-counts', () => {
    for (const path of FIELDS) {
      const body = bodyWith(path, 123);
      expect(tokenFields(body)).toEqual([{ path, value: 123 }]);
      expect(declaredMaxTokens(body)).toBe(123);
    }
  });

  it('several fields: the rate limiter takes the first positive one in the limits rule\'s order', () => {
    for (let i = 0; i < FIELDS.length; i++) {
      for (let j = i + 1; j < FIELDS.length; j++) {
        const body = { ...bodyWith(FIELDS[i]!, 0), ...bodyWith(FIELDS[j]!, 77) };
        const first = tokenFields(body).find((f) => f.value > 0);
        expect(declaredMaxTokens(body)).toBe(first?.value ?? 0);
      }
    }
    expect(declaredMaxTokens({ max_tokens: -1, temperature: 0 })).toBe(0);
  });
});
