import type { Usage } from '../exchange.js';

/**
 * The parts of an exchange's usage that have no column of their own: image and video
 * tokens (GPT image models, Gemini), whisper-1's seconds of audio, web and file searches,
 * Anthropic's 1-hour cache writes. They change the price, so the row keeps them in its
 * `usage_parts` column (schema 17) as JSON keyed like the other token columns, for what
 * prices a row again (--prices, `policy test`'s routes) and for `show` and export. Only
 * counts above 0 are kept (a 0 prices nothing): an ordinary row's column stays NULL, as
 * does every row from before the column ("none recorded"). Pure: no I/O.
 */
const PARTS = [
  ['inputImageTokens', 'input_image_tokens'],
  ['outputImageTokens', 'output_image_tokens'],
  ['inputVideoTokens', 'input_video_tokens'],
  ['inputAudioSeconds', 'input_audio_seconds'],
  ['webSearches', 'web_searches'],
  ['fileSearches', 'file_searches'],
  ['cacheCreation1hTokens', 'cache_creation_1h_tokens'],
] as const satisfies readonly (readonly [keyof Usage, string])[];

export type UsagePartField = (typeof PARTS)[number][0];
/** The parts as the Usage holds them. */
export type UsageParts = Pick<Usage, UsagePartField>;
/** The parts' JSON keys: in the column, and in export's and HAR's `usage`. */
export type UsagePartKey = (typeof PARTS)[number][1];
export const USAGE_PART_KEYS: readonly UsagePartKey[] = PARTS.map(([, key]) => key);

/**
 * The `usage_parts` column of an exchange's usage: JSON of its parts above 0, or null.
 * In the writer thread for every row: an ordinary row costs one truthiness test per part
 * (undefined and 0 alike fail it), nothing is allocated for it.
 */
export function usagePartsColumn(u: Usage | undefined): string | null {
  if (u === undefined || !(u.inputImageTokens || u.outputImageTokens || u.inputVideoTokens || u.inputAudioSeconds
    || u.webSearches || u.fileSearches || u.cacheCreation1hTokens)) return null;
  const json: Partial<Record<UsagePartKey, number>> = {};
  let any = false;
  for (const [field, key] of PARTS) {
    const n = u[field];
    if (isPart(n)) {
      json[key] = n;
      any = true;
    }
  }
  return any ? JSON.stringify(json) : null;
}

/** The parts a `usage_parts` column holds; undefined for none (NULL, a row from before the column, or unreadable JSON). */
export function usagePartsOf(column: string | null | undefined): UsageParts | undefined {
  if (!column) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(column);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const parts: UsageParts = {};
  let any = false;
  for (const [field, key] of PARTS) {
    const n = (parsed as Record<string, unknown>)[key];
    if (isPart(n)) {
      parts[field] = n;
      any = true;
    }
  }
  return any ? parts : undefined;
}

/** The parts as export and HAR write them beside the token columns: every key, null when none was recorded. */
export function usagePartsJson(column: string | null | undefined): Record<UsagePartKey, number | null> {
  const parts = usagePartsOf(column);
  return Object.fromEntries(PARTS.map(([field, key]) => [key, parts?.[field] ?? null])) as Record<UsagePartKey, number | null>;
}

/** What `show` and the web UI's turn say the token counts were made of, besides text, and what else was billed. */
export type UsageBreakdown = UsageParts & Pick<Usage, 'inputAudioTokens' | 'cachedAudioTokens' | 'outputAudioTokens'>;

/**
 * A row's breakdown: its audio columns (schema 11) and its usage_parts, those above 0;
 * undefined for a row with none (text only, or from before the columns).
 */
export function rowBreakdown(row: { input_audio_tokens?: number | null; cached_audio_input_tokens?: number | null; output_audio_tokens?: number | null; usage_parts?: string | null }): UsageBreakdown | undefined {
  const parts = usagePartsOf(row.usage_parts);
  const audio: UsageBreakdown = {};
  if (isPart(row.input_audio_tokens)) audio.inputAudioTokens = row.input_audio_tokens;
  if (isPart(row.cached_audio_input_tokens)) audio.cachedAudioTokens = row.cached_audio_input_tokens;
  if (isPart(row.output_audio_tokens)) audio.outputAudioTokens = row.output_audio_tokens;
  if (!parts && Object.keys(audio).length === 0) return undefined;
  return { ...audio, ...parts };
}

function isPart(n: unknown): n is number {
  return typeof n === 'number' && Number.isFinite(n) && n > 0;
}
