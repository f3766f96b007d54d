import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ErrorObject, ValidateFunction } from 'ajv';
import type { Document, LineCounter } from 'yaml';
import { ajv, yaml } from '../config-parsers.js';
import { ConfigError } from '../config-error.js';
import type { ProviderId } from '../exchange.js';
import { compileOverride, type PriceOverride, type PriceOverrides } from './override-match.js';

export type { PriceOverride, PriceOverrides } from './override-match.js';

/** Every llmtap provider id; `satisfies` keeps this list complete when ProviderId grows. */
const PROVIDER_IDS = Object.keys({
  openai: 1, anthropic: 1, gemini: 1, mistral: 1, groq: 1, deepseek: 1, xai: 1, openrouter: 1, together: 1, cohere: 1, fireworks: 1,
  'azure-openai': 1, cerebras: 1, perplexity: 1, 'github-copilot': 1, chatgpt: 1, ollama: 1, 'openai-compatible': 1,
  'gemini-code-assist': 1, 'vertex-ai': 1, bedrock: 1, jina: 1, voyage: 1, other: 1,
} satisfies Record<ProviderId, 1>);

const RATE = { type: 'number', minimum: 0 } as const;

const SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['prices'],
  properties: {
    prices: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['model', 'input_mtok', 'output_mtok'],
        properties: {
          provider: { type: 'string', enum: PROVIDER_IDS },
          model: { type: 'string', minLength: 1 },
          input_mtok: RATE,
          output_mtok: RATE,
          cache_read_mtok: RATE,
          cache_write_mtok: RATE,
          cache_write_1h_mtok: RATE,
          input_audio_mtok: RATE,
          output_audio_mtok: RATE,
          cache_audio_read_mtok: RATE,
          input_image_mtok: RATE,
          output_image_mtok: RATE,
          input_video_mtok: RATE,
          web_searches_kcount: RATE,
          file_searches_kcount: RATE,
          from: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' },
        },
      },
    },
  },
} as const;

/** Compiled with the first --prices file read, not at every start. */
let validator: ValidateFunction<{ prices: PriceOverride[] }> | undefined;
const validate = (data: unknown): data is { prices: PriceOverride[] } => (validator ??= new (ajv().Ajv)({ allErrors: false, strict: true }).compile<{ prices: PriceOverride[] }>(SCHEMA))(data);

/**
 * Reads a --prices file (YAML, or JSON, which YAML reads too, with the same positions):
 * `{ prices: [ { provider?, model (glob), input_mtok, output_mtok, cache_read_mtok?,
 * cache_write_mtok?, cache_write_1h_mtok?, input_audio_mtok?, output_audio_mtok?,
 * cache_audio_read_mtok?, input_image_mtok?, output_image_mtok?, input_video_mtok?,
 * web_searches_kcount?, file_searches_kcount?, from? } ] }` in USD per million tokens (per thousand calls for the `_kcount` keys). Any problem throws one
 * ConfigError line: `FILE:LINE: prices[0].input_mtok: must be a number`.
 */
export function loadPriceOverrides(file: string): PriceOverrides {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  return parsePriceOverrides(text, file);
}

/** The parsing half of loadPriceOverrides, for text already in hand. */
export function parsePriceOverrides(text: string, file: string): PriceOverrides {
  const lines = new (yaml().LineCounter)();
  const doc = yaml().parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const syntax = doc.errors[0];
  if (syntax) {
    const line = syntax.linePos?.[0].line ?? lines.linePos(syntax.pos[0]).line;
    throw new ConfigError(`${file}:${line}: ${firstLine(syntax.message)}`);
  }
  const data: unknown = doc.toJS();
  if (!validate(data)) {
    const error = validator!.errors?.[0];
    throw new ConfigError(error ? describe(error, doc, lines, file) : `${file}:1: invalid`);
  }
  data.prices.forEach((rule, i) => {
    if (rule.from !== undefined && !isRealDay(rule.from)) {
      throw new ConfigError(`${file}:${lineOf(doc, lines, ['prices', i, 'from'])}: prices[${i}].from: "${rule.from}" is not a calendar day (YYYY-MM-DD)`);
    }
  });
  const version = createHash('sha256').update(text).digest('hex').slice(0, 12);
  return { file, version, entries: data.prices.map((rule) => compileOverride({ ...rule })) };
}

function describe(error: ErrorObject, doc: Document, lines: LineCounter, file: string): string {
  const path = error.instancePath.split('/').slice(1).map((part) => (/^\d+$/.test(part) ? Number(part) : part.replace(/~1/g, '/').replace(/~0/g, '~')));
  const params = error.params as Record<string, unknown>;
  if (error.keyword === 'additionalProperties') {
    const key = String(params.additionalProperty);
    const known = Object.keys(propertiesAt(path)).join(', ');
    return `${file}:${keyLine(doc, lines, path, key)}: ${show([...path, key])}: unknown key (known: ${known})`;
  }
  if (error.keyword === 'required') {
    const key = String(params.missingProperty);
    return `${file}:${lineOf(doc, lines, path)}: ${show([...path, key])}: is required`;
  }
  return `${file}:${lineOf(doc, lines, path)}: ${show(path) || '(top level)'}: ${message(error)}`;
}

function message(error: ErrorObject): string {
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'type': return params.type === 'object' ? 'must be a mapping' : params.type === 'array' ? 'must be a list' : `must be a ${String(params.type)}`;
    case 'minimum': return 'must be a number >= 0';
    case 'minLength': return 'must not be empty';
    case 'pattern': return 'must be a day YYYY-MM-DD';
    case 'enum': return `must be an llmtap provider id (${PROVIDER_IDS.join(', ')})`;
    default: return error.message ?? 'is invalid';
  }
}

function propertiesAt(path: Array<string | number>): Record<string, unknown> {
  return path.length === 0 ? SCHEMA.properties : SCHEMA.properties.prices.items.properties;
}

function show(path: Array<string | number>): string {
  return path.reduce<string>((out, part) => (typeof part === 'number' ? `${out}[${part}]` : out ? `${out}.${part}` : part), '');
}

/** Line of the node at `path`, or of its nearest ancestor that exists. */
function lineOf(doc: Document, lines: LineCounter, path: Array<string | number>): number {
  for (let n = path.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
    if (yaml().isNode(node) && node.range) return lines.linePos(node.range[0]).line;
  }
  return 1;
}

/** Line of the key `key` in the mapping at `path` (an unknown key is reported where it is written). */
function keyLine(doc: Document, lines: LineCounter, path: Array<string | number>, key: string): number {
  const map = path.length === 0 ? doc.contents : doc.getIn(path, true);
  if (yaml().isMap(map)) {
    for (const pair of map.items) {
      if (yaml().isNode(pair.key) && pair.key.range && String((pair.key as { value?: unknown }).value) === key) return lines.linePos(pair.key.range[0]).line;
    }
  }
  return lineOf(doc, lines, path);
}

function isRealDay(day: string): boolean {
  const ms = Date.parse(`${day}T00:00:00Z`);
  return Number.isFinite(ms) && new Date(ms).toISOString().startsWith(day);
}

function firstLine(text: string): string {
  return text.split('\n')[0]!.trim();
}
