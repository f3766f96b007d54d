import type { ApiKind } from '../exchange.js';
import { multipartBoundary, multipartTextParts } from '../providers/multipart-fields.js';
import type { Detector } from './detectors.js';
import { redactText, type Placeholders } from './redact-body.js';
import type { RedactionHit } from './types.js';

/**
 * Redaction of a file upload (multipart/form-data: an image edit or variation, a
 * transcription or translation): its text fields are read as message text, its file
 * parts never. A field a rule changed is rewritten in place, byte for byte around it:
 * the file parts, the part headers and the boundary go up as the client sent them.
 */

/** APIs whose requests may be file uploads (multipart/form-data). */
const UPLOAD_APIS: ReadonlySet<ApiKind> = new Set(['images', 'audio.transcriptions']);

/** True for APIs that take file uploads. */
export function takesUploads(api: ApiKind | undefined): boolean {
  return api !== undefined && UPLOAD_APIS.has(api);
}

/**
 * Fields that are parameters, not text a person wrote (as a JSON body's model names and
 * numbers are never scanned): left alone so the request stays valid. Every other text
 * field is scanned, a new one the provider adds included.
 */
const PARAMETER_FIELDS = new Set([
  'model', 'n', 'size', 'quality', 'style', 'response_format', 'output_format', 'output_compression', 'background',
  'moderation', 'input_fidelity', 'partial_images', 'stream', 'temperature', 'language', 'chunking_strategy',
  'timestamp_granularities[]', 'include[]', 'known_speaker_references[]',
]);

/**
 * Longest text field scanned. A prompt (32,000 characters for the GPT image models) fits
 * whatever its script; a longer part without a filename is a file, passed over as one.
 */
const MAX_FIELD_BYTES = 1024 * 1024;

/** Refuses bytes that are not UTF-8. */
const FIELD_TEXT = new TextDecoder('utf-8', { fatal: true });

/** One text field of an upload: where its value lies in the body, and its text (changed in place by redaction). */
interface FormField {
  name: string;
  start: number;
  end: number;
  text: string;
  changed: boolean;
}

/** The text fields of one upload, read once and redacted by every matching rule in turn. */
export class UploadForm {
  constructor(readonly body: Buffer, readonly fields: readonly FormField[]) {}
}

/** The scannable text fields of a multipart body; undefined when the Content-Type is not multipart/form-data. */
export function readUploadForm(body: Buffer, contentType: string | undefined): UploadForm | undefined {
  const boundary = multipartBoundary(contentType);
  if (boundary === undefined) return undefined;
  const fields: FormField[] = [];
  for (const part of multipartTextParts(body, boundary, MAX_FIELD_BYTES)) {
    if (PARAMETER_FIELDS.has(part.name)) continue;
    let text: string;
    try {
      text = FIELD_TEXT.decode(body.subarray(part.start, part.end));
    } catch {
      // Not UTF-8: a file sent without a filename. Never read (a rewrite would corrupt its bytes).
      continue;
    }
    fields.push({ name: part.name, start: part.start, end: part.end, text, changed: false });
  }
  return new UploadForm(body, fields);
}

/**
 * Runs the detectors over an upload's text fields, as redactRequest over a JSON body's
 * message text: the same placeholders, hits at `form:<field name>`. With `apply` the
 * changed text is kept on the form (rewriteForm writes it into the body).
 */
export function redactForm(form: UploadForm, detectors: readonly Detector[], placeholders: Placeholders, apply: boolean): RedactionHit[] {
  const hits: RedactionHit[] = [];
  for (const field of form.fields) {
    const { text, fired } = redactText(field.text, detectors, placeholders);
    if (fired.size === 0) continue;
    const at = `form:${field.name}`;
    for (const [detector, count] of fired) {
      // A field sent twice under one name is one place to the reader.
      const same = hits.find((h) => h.detector === detector && h.at === at);
      if (same) same.count += count;
      else hits.push({ detector, at, count });
    }
    if (apply && text !== field.text) {
      field.text = text;
      field.changed = true;
    }
  }
  return hits;
}

/** The body with each changed field's value replaced; every other byte as sent. Undefined when nothing changed. */
export function rewriteForm(form: UploadForm): Buffer | undefined {
  const changed = form.fields.filter((f) => f.changed);
  if (changed.length === 0) return undefined;
  const pieces: Buffer[] = [];
  let at = 0;
  for (const field of changed) {
    pieces.push(form.body.subarray(at, field.start), Buffer.from(field.text, 'utf8'));
    at = field.end;
  }
  pieces.push(form.body.subarray(at));
  return Buffer.concat(pieces);
}
