import { createRequire } from 'node:module';
import { Ajv, type ValidateFunction } from 'ajv';

const require = createRequire(import.meta.url);

/**
 * The HAR 1.2 JSON Schema from `har-schema` (draft-06) compiled with ajv 8: ajv 8
 * ships the draft-06 meta-schema but does not load it by default; `strict: false`
 * lets through the schema's non-standard keywords (`min`, `optional`). ajv 8 has no
 * built-in formats (they live in ajv-formats, not installed), so the two the schema
 * uses for entries are defined here, strictly enough to catch a bad date or URL.
 */
export function harValidator(): ValidateFunction {
  const ajv = new Ajv({ strict: false, allErrors: true });
  ajv.addMetaSchema(require('ajv/dist/refs/json-schema-draft-06.json') as object);
  ajv.addFormat('date-time', (s: string) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(s) && !Number.isNaN(Date.parse(s)));
  ajv.addFormat('uri', (s: string) => /^[a-z][a-z0-9+.-]*:/i.test(s) && URL.canParse(s));
  ajv.addFormat('ipv4', /^(\d{1,3}\.){3}\d{1,3}$/);
  ajv.addFormat('ipv6', (s: string) => s.includes(':'));
  const schemas = require('har-schema') as Record<string, object>;
  for (const [name, schema] of Object.entries(schemas)) if (name !== 'har') ajv.addSchema(schema);
  return ajv.compile(schemas.har!);
}

/** Throws with ajv's messages when `doc` is not valid HAR 1.2. */
export function assertValidHar(doc: unknown): void {
  const validate = harValidator();
  if (!validate(doc)) throw new Error(`not valid HAR: ${JSON.stringify(validate.errors)}`);
}
