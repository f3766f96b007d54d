import { usdFraction } from '../cost/usd-fraction.js';
import { periodEnd } from './budget.js';
import type { BlockCode } from './evaluate.js';
import type { Decision } from './types.js';

/**
 * What a refused client reads (the provider-shaped error's `message`): which rule refused
 * it and why, in the words a developer needs to act — the model, the detector and where,
 * the key and when its budget starts again — never a value the rule matched. Undefined
 * when the decisions do not say (the code's own message stands). Pure.
 */
export function refusalMessage(code: BlockCode, decisions: readonly Decision[], model: string | undefined, now: number): string | undefined {
  const by = (d: Decision): string => `llmtap policy rule "${d.rule}"`;
  switch (code) {
    case 'model_not_allowed': {
      const d = find(decisions, (x) => x.kind === 'access' && x.action === 'deny');
      const asked = d?.kind === 'access' && d.model !== undefined ? d.model : model;
      return d && `${asked === undefined ? 'this model' : `the model "${asked}"`} is not allowed by ${by(d)}`;
    }
    case 'content_blocked': {
      const d = find(decisions, (x) => x.kind === 'redact' && (x.action === 'block' || x.notApplied !== undefined));
      if (d?.kind !== 'redact') return undefined;
      const what = d.hits.map((h) => `${h.detector} (at ${h.at})`).join(', ') || 'content';
      // A replace rule on a signed request: neither sent with the value nor sent changed.
      return d.notApplied !== undefined
        ? `the request holds ${what} that ${by(d)} replaces, and ${d.notApplied}; refused rather than sent with it`
        : `the request holds ${what} that ${by(d)} does not let leave this machine`;
    }
    case 'rate_limited': {
      const d = find(decisions, (x) => x.kind === 'rateLimit');
      return d?.kind === 'rateLimit' ? `rate limited by ${by(d)}: ${d.limit} per minute for ${d.key}; retry in ${d.retryAfterSeconds}s` : undefined;
    }
    case 'budget_exceeded': {
      const d = find(decisions, (x) => x.kind === 'budget' && x.action === 'block');
      if (d?.kind !== 'budget') return undefined;
      return `the budget of ${by(d)} is spent for ${d.key}: ${dollars(d.spentUsd)} of ${dollars(d.limitUsd)} this ${d.period}; it starts again at ${new Date(periodEnd(d.period, now)).toISOString()}`;
    }
    case 'max_tokens_exceeded':
    case 'request_too_large': {
      const d = find(decisions, (x) => x.kind === 'limits' && x.action === 'block');
      if (d?.kind !== 'limits') return undefined;
      return d.limit === 'requestBytes'
        ? `the request body is ${d.from} bytes, more than the ${d.to} ${by(d)} allows`
        : `${d.field ?? 'max tokens'} is ${d.from}, above the cap of ${d.to} ${by(d)} allows`;
    }
  }
}

/** The enforced decision that refused. */
function find(decisions: readonly Decision[], test: (d: Decision) => boolean): Decision | undefined {
  return decisions.find((d) => d.enforced && test(d));
}

/** $12.50, $0.0042, $0.00000010: two significant digits below a cent, never an exponent. */
function dollars(usd: number): string {
  if (usd >= 0.01 || usd <= 0) return `$${usd.toFixed(2)}`;
  return `$${usdFraction(usd)}`;
}
