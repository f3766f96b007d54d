import type { Reassembled, Usage } from '../exchange.js';
import { asObject, readModelAndStream, wholeJsonReducer, type JsonObject } from './json.js';
import { multipartBoundary, multipartFields } from './multipart-fields.js';
import { isEventStream, typedEventReducer } from './sse.js';
import type { ProviderParser, RequestFacts } from './types.js';

/**
 * OpenAI's Image API: generations (JSON: `{model, prompt, n, size, quality, stream}`), edits
 * and variations (multipart uploads: only the `model` and `stream` fields are read here; the
 * body goes up untouched unless a redact rule rewrites a text field: policy/redact-form.ts). The answer — `{created, data: [{b64_json | url, revised_prompt}],
 * size, usage}`, or with `stream: true` SSE `image_generation.partial_image` /
 * `image_generation.completed` (`image_edit.*` for edits) — is read for the image count
 * (and size) as its text, DALL·E 3's revised prompts, and the GPT image models' `usage`:
 * input tokens (text and image, `input_tokens_details`) and output tokens (image tokens,
 * `output_tokens_details` where given). The images themselves stay in the stored body
 * as captured. DALL·E answers count no tokens (they are billed per image).
 */
export const openaiImages: ProviderParser = {
  parseRequest(body, contentType): RequestFacts {
    if (multipartBoundary(contentType) === undefined) return readModelAndStream(body);
    const fields = multipartFields(body, contentType, ['model', 'stream']);
    const facts: RequestFacts = { stream: fields.stream === 'true' };
    if (fields.model !== undefined && fields.model !== '') facts.model = fields.model;
    return facts;
  },
  createReducer: (contentType) => (isEventStream(contentType) ? streamReducer() : wholeJsonReducer(readImages)),
};

function readImages(body: JsonObject | undefined): Reassembled {
  const result: Reassembled = { text: '', toolCalls: [], events: 0 };
  if (!body) return result;
  const images = Array.isArray(body.data) ? body.data.map(asObject).filter((image) => image !== undefined) : [];
  const lines = [imageCount(images.length, body.size)];
  for (const image of images) if (typeof image.revised_prompt === 'string' && image.revised_prompt !== '') lines.push(`revised prompt: ${image.revised_prompt}`);
  if (Array.isArray(body.data)) result.text = lines.join('\n');
  const usage = imageUsage(body.usage);
  if (usage) result.usage = usage;
  return result;
}

function streamReducer() {
  let completed = 0;
  let partial = 0;
  let size: unknown;
  let usage: Usage | undefined;
  return typedEventReducer((type, event) => {
    if (type.endsWith('.partial_image')) partial++;
    if (type.endsWith('.completed')) {
      completed++;
      size ??= event.size;
      // Each completed image reports the usage of the whole request (n is 1 when streaming).
      usage = imageUsage(event.usage) ?? usage;
    }
  }, (events) => {
    const result: Reassembled = { text: '', toolCalls: [], events };
    if (completed > 0 || partial > 0) result.text = `${imageCount(completed, size)}${partial > 0 ? ` (${partial} partial)` : ''}`;
    if (usage) result.usage = usage;
    return result;
  });
}

/** `1 image`, `2 images, 1024x1024`. */
function imageCount(count: number, size: unknown): string {
  return `${count} image${count === 1 ? '' : 's'}${typeof size === 'string' && size !== '' ? `, ${size}` : ''}`;
}

/** The GPT image models' usage: `input_tokens` (text and image, with `input_tokens_details`) and `output_tokens`. */
export function imageUsage(value: unknown): Usage | undefined {
  const raw = asObject(value);
  if (!raw) return undefined;
  const usage: Usage = {};
  if (isCount(raw.input_tokens)) usage.inputTokens = raw.input_tokens;
  if (isCount(raw.output_tokens)) usage.outputTokens = raw.output_tokens;
  const inputImage = asObject(raw.input_tokens_details)?.image_tokens;
  if (isCount(inputImage) && inputImage > 0) usage.inputImageTokens = inputImage;
  const outputImage = asObject(raw.output_tokens_details)?.image_tokens;
  if (isCount(outputImage) && outputImage > 0) usage.outputImageTokens = outputImage;
  return usage.inputTokens === undefined && usage.outputTokens === undefined ? undefined : usage;
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}
