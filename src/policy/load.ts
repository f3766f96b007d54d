import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ErrorObject, ValidateFunction } from 'ajv';
import type { Document, LineCounter, Node } from 'yaml';
import { ConfigError } from '../config-error.js';
import { ajv, yaml } from '../config-parsers.js';
import { compilePolicy, RuleError, type CompiledPolicy } from './compile.js';
import { dotted } from './match.js';
import type { CredentialSources } from './routing-compile.js';
import { POLICY_SCHEMA } from './schema.js';
import type { PolicySpec } from './types.js';

/** Compiled with the first policy read (~60 ms), not at every start. */
let validator: ValidateFunction<PolicySpec> | undefined;
const validate = (data: unknown): data is PolicySpec => (validator ??= new (ajv().Ajv)({ allErrors: false, strict: true, allowUnionTypes: true, verbose: true }).compile<PolicySpec>(POLICY_SCHEMA))(data);

/**
 * For reading a policy without sending anything (`policy test`, `stats --budgets`, `stats --by
 * team`): no credential is read, so a credentials rule's variable or file need not exist on the
 * machine the archive is examined on.
 */
export const NO_SECRETS: CredentialSources = {
  env: new Proxy({}, { get: (_t, name) => (typeof name === 'string' ? 'placeholder-not-read' : undefined) }),
  readFile: () => 'placeholder-not-read',
};

/** Reads, validates and compiles a policy file (YAML or JSON); ConfigError with `file:line: key: problem` otherwise. */
export function loadPolicyFile(file: string, sources: CredentialSources = {}): CompiledPolicy {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  return loadPolicyText(text, file, sources);
}

/**
 * Parses a policy from text. YAML is a superset of JSON, so one parser reads both
 * and keeps the source position of every node for the messages.
 */
export function loadPolicyText(text: string, file = 'policy', sources: CredentialSources = {}): CompiledPolicy {
  const name = file;
  const lines = new (yaml().LineCounter)();
  const doc = yaml().parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  const syntax = doc.errors[0];
  if (syntax) {
    const line = lines.linePos(syntax.pos[0]).line;
    throw new ConfigError(`${name}:${line}: ${syntax.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`);
  }
  const data: unknown = doc.toJS({ maxAliasCount: 100 });
  if (!validate(data)) {
    const err = validator!.errors![0]!;
    const { path, line, problem } = describe(err, doc, lines);
    throw new ConfigError(`${name}:${line}: ${path ? `${path}: ` : ''}${problem}`);
  }
  try {
    // A credentials file named relative to the policy file is read from beside it.
    const policy = compilePolicy(data, { baseDir: dirname(file), ...sources });
    for (const w of policy.warnings ?? []) w.text = `${name}:${lineOf(doc, lines, w.path)}: ${dotted(w.path)}: ${w.message}`;
    return policy;
  } catch (err) {
    if (!(err instanceof RuleError)) throw err;
    throw new ConfigError(`${name}:${lineOf(doc, lines, err.path)}: ${dotted(err.path)}: ${err.message}`);
  }
}

function describe(err: ErrorObject, doc: Document, lines: LineCounter): { path: string; line: number; problem: string } {
  const segments = pointer(err.instancePath);
  if (err.keyword === 'additionalProperties') {
    const key = String((err.params as { additionalProperty: string }).additionalProperty);
    const path = [...segments, key];
    return { path: dotted(path), line: lineOf(doc, lines, path, true), problem: 'unknown key' };
  }
  let problem = err.message ?? 'invalid';
  if (err.keyword === 'type') problem = `must be ${String((err.params as { type: string | string[] }).type).split(',').join(' or ')}`;
  if (err.keyword === 'enum') problem = `must be one of ${((err.params as { allowedValues: unknown[] }).allowedValues).join(', ')}`;
  if (err.keyword === 'const') problem = `must be ${JSON.stringify((err.params as { allowedValue: unknown }).allowedValue)}`;
  // A pattern is no message: the schema's description of it says what was expected (ajv's verbose errors carry both).
  const meaning = (err.parentSchema as { description?: string } | undefined)?.description;
  if (err.keyword === 'pattern' && meaning) problem = `${JSON.stringify(err.data)}: expected ${meaning}`;
  if (err.keyword === 'required') {
    const missing = (err.params as { missingProperty: string }).missingProperty;
    return { path: dotted(segments), line: lineOf(doc, lines, segments), problem: `missing key "${missing}"` };
  }
  return { path: dotted(segments), line: lineOf(doc, lines, segments), problem };
}

/** `/rules/2/match/model` → ['rules', 2, 'match', 'model'] (JSON pointer escapes undone). */
function pointer(instancePath: string): (string | number)[] {
  if (!instancePath) return [];
  return instancePath.slice(1).split('/').map((s) => {
    const part = s.replace(/~1/g, '/').replace(/~0/g, '~');
    return /^\d+$/.test(part) ? Number(part) : part;
  });
}


/** 1-based line of the node at `path` (of its key when `key`), falling back to the nearest ancestor. */
function lineOf(doc: Document, lines: LineCounter, path: readonly (string | number)[], key = false): number {
  for (let n = path.length; n >= 0; n--) {
    const parentPath = path.slice(0, n === path.length && key ? n - 1 : n);
    if (key && n === path.length) {
      const parent = parentPath.length === 0 ? doc.contents : doc.getIn(parentPath, true);
      if (yaml().isMap(parent)) {
        const pair = parent.items.find((p) => yaml().isScalar(p.key) && String(p.key.value) === String(path[n - 1]));
        const range = (pair?.key as Node | undefined)?.range;
        if (range) return lines.linePos(range[0]).line;
      }
      continue;
    }
    const node = (n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true)) as Node | null | undefined;
    if (node?.range) return lines.linePos(node.range[0]).line;
  }
  return 1;
}
