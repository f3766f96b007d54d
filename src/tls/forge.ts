import { lazyRequire } from '../lazy-require.js';

/**
 * node-forge (X.509 structures for the CA and leaves), loaded with the first certificate
 * read or made: commands that touch no certificate do not pay for it.
 */
export const nodeForge = lazyRequire<typeof import('node-forge')>('node-forge');
