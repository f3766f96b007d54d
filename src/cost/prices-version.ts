import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * The bundled price data's version is the package's: it exports no data version of its
 * own. Read from its package.json without loading the package (~10 MB of price data),
 * so commands and threads that only name the version do not pay for it.
 */
export const GENAI_PRICES_VERSION = `genai-prices@${packageVersion()}`;

function packageVersion(): string {
  try {
    const main = createRequire(import.meta.url).resolve('@pydantic/genai-prices');
    const pkg = JSON.parse(readFileSync(join(dirname(main), '..', 'package.json'), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}
