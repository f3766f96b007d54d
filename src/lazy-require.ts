import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/**
 * A CommonJS package loaded on its first use rather than when the proxy starts (a static
 * import would load it, and whatever it sets up, in every process). Synchronous, so the
 * code that needs it stays synchronous; call the loader up front where the first use must
 * not wait. The package must have a CommonJS entry (all the ones used here do).
 */
export function lazyRequire<T>(name: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= require(name) as T);
}
