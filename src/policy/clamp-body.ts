import { applyEdits, modify } from 'jsonc-parser';
import type { Clamp } from './limits.js';
import { tokenFields } from './limits.js';

/**
 * The request body with clamped max-tokens fields, every other byte as the client sent
 * it (only the numbers' text changes; jsonc-parser edits the value in place). A body
 * the edit cannot be trusted on — duplicate keys, where JSON.parse keeps the last and
 * the edit would change the first — is re-checked and, failing that, re-serialised
 * from the clamped object, so the cap always holds for what goes upstream.
 */
export function clampedBody(decoded: Buffer, clampedObject: unknown, clamps: readonly Clamp[]): Buffer {
  let text = decoded.toString('utf8');
  try {
    for (const c of clamps) text = applyEdits(text, modify(text, c.path, c.to, {}));
    const reparsed: unknown = JSON.parse(text);
    const caps = new Map(clamps.map((c) => [c.path.join('.'), c.to]));
    if (tokenFields(reparsed).every((f) => !caps.has(f.path.join('.')) || f.value <= caps.get(f.path.join('.'))!)) return Buffer.from(text, 'utf8');
  } catch {
    // fall through to re-serialising
  }
  return Buffer.from(JSON.stringify(clampedObject), 'utf8');
}
