/**
 * What llmtap estimated of an exchange's usage (recorder/row-estimate.ts): `all` of it for
 * an answer that reported none (input and output counted from the text), `output` for a
 * stream cut before its final usage whose input the provider had reported (Anthropic's
 * `message_start`, Claude on Bedrock). Stored in the `usage_estimated` column as 1 and 2
 * (0: awaiting the estimate, NULL: none), so no migration was needed for the second.
 * Pure: the web UI's bundle reads it too.
 */
export type EstimatedPart = 'all' | 'output';

export const ESTIMATED_COLUMN: Readonly<Record<EstimatedPart, 1 | 2>> = { all: 1, output: 2 };

/** The `usage_estimated` column read back: null when nothing was (or is yet) estimated. */
export function estimatedPart(column: number | null | undefined): EstimatedPart | null {
  return column === 1 ? 'all' : column === 2 ? 'output' : null;
}

/** How `show` and the web UI mark the figures: ` (estimated)`, ` (output estimated)`, or nothing. */
export function estimatedMark(part: EstimatedPart | null | undefined): string {
  return part === 'all' ? ' (estimated)' : part === 'output' ? ' (output estimated)' : '';
}
