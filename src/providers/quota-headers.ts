import type { RawHeaders } from '../exchange.js';

/**
 * Rate-limit and subscription-quota headers of one answer, by family, with the
 * family prefix removed and numbers parsed: Anthropic `anthropic-ratelimit-*`
 * (incl. the subscription `anthropic-ratelimit-unified-5h-utilization`, `…-7d-reset`,
 * `…-representative-claim`), OpenAI `x-ratelimit-*` (`remaining-tokens`,
 * `reset-requests: 6m0s`), Codex `x-codex-*` (`primary-used-percent`,
 * `secondary-window-minutes`, `primary-reset-after-seconds`). Stored per exchange so
 * quota burn can be computed as the change across a session's exchanges.
 */
export type QuotaFamily = 'anthropic' | 'openai' | 'codex';
export type Quota = Partial<Record<QuotaFamily, Record<string, number | string>>>;

const PREFIXES: ReadonlyArray<[string, QuotaFamily]> = [
  ['anthropic-ratelimit-', 'anthropic'],
  ['x-ratelimit-', 'openai'],
  ['x-codex-', 'codex'],
];

/** Codex sends other x-codex-* headers too; only the quota ones are kept. */
const CODEX_QUOTA = /^(primary|secondary|credits)-|percent|window|reset/;

export function readQuota(headers: RawHeaders): Quota | undefined {
  let quota: Quota | undefined;
  for (let i = 0; i + 1 < headers.length; i += 2) {
    const name = headers[i]!.toLowerCase();
    for (const [prefix, family] of PREFIXES) {
      if (!name.startsWith(prefix)) continue;
      const key = name.slice(prefix.length);
      if (key === '' || (family === 'codex' && !CODEX_QUOTA.test(key))) break;
      const raw = headers[i + 1]!.trim().slice(0, 128);
      quota ??= {};
      (quota[family] ??= {})[key] = /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : raw;
      break;
    }
  }
  return quota;
}
