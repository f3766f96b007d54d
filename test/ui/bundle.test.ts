import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildUi } from '../../scripts/build-ui.js';
import { UI_DIST } from '../../src/ui/server/assets.js';

describe('the committed web UI bundle', () => {
  it('is exactly what a fresh build of ui/src gives (run `npm run build:ui` after changing ui/src)', async () => {
    const fresh = await buildUi(false);
    expect([...fresh.keys()].sort()).toEqual(['app.css', 'app.js']);
    for (const [name, text] of fresh) expect(readFileSync(`${UI_DIST}${name}`, 'utf8'), `ui/dist/${name} is stale`).toBe(text);
  }, 60_000);
});
