import { lazyRequire } from './lazy-require.js';

/**
 * The YAML parser (with source positions) and the JSON Schema validator that the policy
 * and --prices files are read with: loaded with the first such file, not at every start
 * (with their schemas compiled, ~130 ms and a few MB a proxy without either never needs).
 */
export const yaml = lazyRequire<typeof import('yaml')>('yaml');
export const ajv = lazyRequire<typeof import('ajv')>('ajv');
