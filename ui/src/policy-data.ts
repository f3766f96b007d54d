/** A rule's match or settings as one short line: `model: gpt-5*, user: alice | bob`; nested settings as `key: {a: 1}`. */
export function compact(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (Array.isArray(value)) return value.map(compact).join(' | ');
  if (typeof value !== 'object') return String(value);
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 0) return '';
  return entries.map(([k, v]) => `${k}: ${v !== null && typeof v === 'object' && !Array.isArray(v) ? `{${compact(v)}}` : compact(v)}`).join(', ');
}

/** How much of its budget a key used, as a bar's width (0–100 %: an overspent key fills it). */
export function usedWidth(used: number): string {
  return `${Math.min(100, Math.max(0, used * 100)).toFixed(1)}%`;
}
