/**
 * A WebSocket session (Codex's Responses over WebSocket) is one exchange row, named after
 * the last model that answered, but Codex switches models inside a session. When more
 * than one model answered, the row's `model_usage` column holds each model's part: its
 * responses, token counts (as the provider reported them, like the row's own columns)
 * and the sum of its responses' prices, which add up to the row's cost. Read here.
 */
export interface ModelPart {
  model: string;
  /** How many of the session's responses this model gave. */
  responses: number;
  input_tokens: number | null;
  cached_input_tokens: number | null;
  cache_creation_input_tokens: number | null;
  output_tokens: number | null;
  reasoning_tokens: number | null;
  /** Its responses' prices summed; null when the session has no price. */
  cost_usd: number | null;
}

/** The parts of a row's `model_usage`; undefined for a row answered by one model (or from before the column). */
export function modelParts(column: string | null | undefined): ModelPart[] | undefined {
  if (!column) return undefined;
  try {
    const parsed = JSON.parse(column) as unknown;
    if (!Array.isArray(parsed)) return undefined;
    const parts = parsed.filter((p): p is ModelPart => typeof p === 'object' && p !== null && typeof (p as ModelPart).model === 'string');
    return parts.length > 0 ? parts : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The model column of one-row-per-exchange views (CSV export, tail): the row's model, or
 * for a session that switched models every one of them joined with `+`
 * (`gpt-5-codex+gpt-5-mini`), so no view puts the whole session under its last model.
 */
export function modelLabel(row: { model: string | null; model_usage?: string | null }): string | null {
  return joinedModels(rowModels(row));
}

/** Models as one label (`gpt-5-codex+gpt-5-mini`), null for none: modelLabel's, and the web UI's for a row's `models`. Pure (the UI bundle uses it). */
export function joinedModels(models: readonly string[]): string | null {
  return models.length === 0 ? null : models.join('+');
}

/** Every model that answered in an exchange, in the order they first did: the row's own for most. */
export function rowModels(row: { model: string | null; model_usage?: string | null }): string[] {
  const parts = modelParts(row.model_usage);
  if (parts) return parts.map((p) => p.model);
  return row.model === null ? [] : [row.model];
}
