import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * Where a worker thread's entry module is, given the URL of a module beside it
 * (`import.meta.url`) and its file name. From dist/ (`node dist/cli/main.js`, the package)
 * it is the compiled .js next to that module. From the TypeScript sources (vitest runs
 * src/ through vite) there is no .js beside it, and a worker cannot load .ts without a
 * loader (registering tsx in the worker works but costs ~0.4 s per thread, and production
 * must not need tsx), so the compiled copy in dist/ is used: `npm test` builds first. A
 * dist/ older than the sources (the entry's own directory, and `alsoReads` beside src/)
 * would silently run old code, so that is an error naming the fix.
 */
export function compiledWorkerEntry(besideUrl: string, file: string, alsoReads: readonly string[] = []): URL {
  const beside = new URL(`./${file}`, besideUrl);
  if (existsSync(fileURLToPath(beside))) return beside;
  const here = dirname(fileURLToPath(besideUrl)); // src/<dir>
  const built = join(here, '..', '..', 'dist', here.split(/[\\/]/).pop()!, file);
  if (!existsSync(built)) throw new Error(`a worker thread needs the compiled ${built}; run \`npm run build\``);
  const builtAt = statSync(built).mtimeMs;
  const sources = [...readdirSync(here).filter((f) => f.endsWith('.ts')).map((f) => join(here, f)), ...alsoReads.map((f) => join(here, '..', f))];
  const newer = sources.find((f) => existsSync(f) && statSync(f).mtimeMs > builtAt);
  if (newer) throw new Error(`${built} is older than ${newer}; run \`npm run build\``);
  return pathToFileURL(built);
}

/** What a one-job worker thread (a report read, an archive snapshot) posts back: its result, or the message of what it threw. */
export type WorkerAnswer<T = unknown> = { ok: true; result: T } | { ok: false; message: string };
