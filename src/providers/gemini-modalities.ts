import type { Usage } from '../exchange.js';
import { asObject, type JsonObject } from './json.js';

/** Tokens of one side of a Gemini usageMetadata, by the modalities billed apart from text. */
interface ModalityCounts {
  audio: number;
  /** IMAGE and DOCUMENT (a PDF's pages are read as images and billed so). */
  image: number;
  video: number;
}

/**
 * The parts of a Gemini usageMetadata's totals that are audio, images or video, laid onto
 * `usage` (generateContent and Live alike): promptTokensDetails (with a built-in tool's
 * toolUsePromptTokensDetails, billed as input), cacheTokensDetails, and
 * candidatesTokensDetails (Live: responseTokensDetails). Those modalities have their own
 * rates (an image gemini-2.5-flash-image draws costs 12 times a text token; audio in a
 * prompt over 3 times), so a price from the totals alone would be far off.
 *
 * Only counts above 0 are set, except with `audioAlways` (Live): there a side whose details
 * are sent gets its audio count even at 0, which tells the price that text rates apply
 * (price-exchange.ts leaves Live usage without any breakdown unpriced).
 */
export function addModalityTokens(raw: JsonObject, usage: Usage, audioAlways = false): void {
  const prompt = sumCounts(countsOf(raw.promptTokensDetails), countsOf(raw.toolUsePromptTokensDetails));
  const cached = countsOf(raw.cacheTokensDetails);
  const output = countsOf(raw.responseTokensDetails ?? raw.candidatesTokensDetails);
  const put = (key: 'inputAudioTokens' | 'inputImageTokens' | 'inputVideoTokens' | 'cachedAudioTokens' | 'outputAudioTokens' | 'outputImageTokens', count: number | undefined, keepZero = false): void => {
    if (count !== undefined && (count > 0 || keepZero)) usage[key] = count;
  };
  put('inputAudioTokens', prompt?.audio, audioAlways);
  put('inputImageTokens', prompt?.image);
  put('inputVideoTokens', prompt?.video);
  put('cachedAudioTokens', cached?.audio);
  put('outputAudioTokens', output?.audio, audioAlways);
  put('outputImageTokens', output?.image);
}

/** One per-modality list (`[{modality, tokenCount}]`) summed by modality; undefined without a list. */
function countsOf(details: unknown): ModalityCounts | undefined {
  if (!Array.isArray(details)) return undefined;
  const counts: ModalityCounts = { audio: 0, image: 0, video: 0 };
  for (const item of details) {
    const entry = asObject(item);
    const tokens = entry?.tokenCount;
    if (typeof tokens !== 'number' || !Number.isFinite(tokens) || tokens <= 0) continue;
    if (entry!.modality === 'AUDIO') counts.audio += tokens;
    else if (entry!.modality === 'IMAGE' || entry!.modality === 'DOCUMENT') counts.image += tokens;
    else if (entry!.modality === 'VIDEO') counts.video += tokens;
  }
  return counts;
}

function sumCounts(a: ModalityCounts | undefined, b: ModalityCounts | undefined): ModalityCounts | undefined {
  if (!a || !b) return a ?? b;
  return { audio: a.audio + b.audio, image: a.image + b.image, video: a.video + b.video };
}
