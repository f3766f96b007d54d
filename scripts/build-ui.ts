import { build, type BuildOptions } from 'esbuild';
import { fileURLToPath } from 'node:url';

/**
 * Bundles the web UI (ui/src, TypeScript + preact) into ui/dist/app.js and app.css.
 * The output is committed, so `npm start` needs no build step and the UI works
 * offline; test/ui/bundle.test.ts checks the committed files equal a fresh build.
 */
const root = fileURLToPath(new URL('..', import.meta.url));

export const UI_BUILD: BuildOptions = {
  absWorkingDir: root,
  entryPoints: { app: 'ui/src/main.tsx' },
  outdir: 'ui/dist',
  bundle: true,
  format: 'esm',
  target: 'es2020',
  minify: true,
  legalComments: 'eof',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  charset: 'utf8',
  logLevel: 'warning',
};

/** The built files by name (app.js, app.css), in memory. */
export async function buildUi(write: boolean): Promise<Map<string, string>> {
  const result = await build({ ...UI_BUILD, write });
  const files = new Map<string, string>();
  for (const f of result.outputFiles ?? []) files.set(f.path.split('/').pop()!, f.text);
  return files;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await buildUi(true);
}
