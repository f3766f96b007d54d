import type { QuotaBurn } from '../../sessions/quota-burn.js';

const LABELS: Record<string, string> = { 'anthropic.5h': '5h', 'anthropic.7d': '7d', 'codex.primary': 'primary', 'codex.secondary': 'weekly' };

/** "5h +3.2% 7d +0.4%": how much of each usage window a session or thread used. */
export function quotaText(quota: QuotaBurn | null | undefined): string {
  if (!quota) return '-';
  const parts = Object.entries(quota).map(([window, v]) => `${LABELS[window] ?? window} +${(v?.burn ?? 0).toFixed(1)}%`);
  return parts.length > 0 ? parts.join(' ') : '-';
}
