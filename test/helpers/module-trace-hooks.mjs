/** Loader hooks of module-trace.mjs: they run on the loader's thread and write each URL as it loads. */
import { appendFileSync } from 'node:fs';

let out;

export function initialize(data) {
  out = data.out;
}

export async function load(url, context, next) {
  appendFileSync(out, `${url}\n`);
  return next(url, context);
}
