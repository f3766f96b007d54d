import type { UsageBreakdown } from '../../archive/usage-parts.js';
import { tokens } from './format.js';

/**
 * A turn's token counts as `show` and `replay` write them, with what they were made of
 * besides text: `in 373 (cached 0, 323 image) out 1.3k (1.3k image)`; audio, image and
 * video tokens are parts of the counts, so they go in the counts' parentheses. Pure.
 */
export function tokenFigures(prompt: number, cached: number, output: number | null, parts: UsageBreakdown | undefined): string {
  const inParts = parts ? [
    part(parts.inputAudioTokens, 'audio'), part(parts.inputImageTokens, 'image'), part(parts.inputVideoTokens, 'video'),
    parts.cacheCreation1hTokens ? `${tokens(parts.cacheCreation1hTokens)} written to the 1h cache` : undefined,
  ].filter((p) => p !== undefined) : [];
  const outParts = parts ? [part(parts.outputAudioTokens, 'audio'), part(parts.outputImageTokens, 'image')].filter((p) => p !== undefined) : [];
  return `in ${tokens(prompt)} (${[`cached ${tokens(cached)}`, ...inParts].join(', ')}) out ${tokens(output)}${outParts.length > 0 ? ` (${outParts.join(', ')})` : ''}`;
}

/** What was billed besides tokens, one fact each: `3 web searches`, `1 file search`, `42 s of audio` (whisper-1). */
export function billedBesideTokens(parts: UsageBreakdown | undefined): string[] {
  if (!parts) return [];
  const out: string[] = [];
  if (parts.webSearches) out.push(searches(parts.webSearches, 'web'));
  if (parts.fileSearches) out.push(searches(parts.fileSearches, 'file'));
  if (parts.inputAudioSeconds) out.push(`${seconds(parts.inputAudioSeconds)} s of audio`);
  return out;
}

function searches(n: number, kind: string): string {
  return `${n} ${kind} search${n === 1 ? '' : 'es'}`;
}

function part(n: number | undefined, kind: string): string | undefined {
  return n ? `${tokens(n)} ${kind}` : undefined;
}

/** Whole seconds as they are (whisper-1 bills whole seconds), a fraction to one decimal (8.47 → 8.5). */
function seconds(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}
